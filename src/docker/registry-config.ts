import path from 'node:path';

/** Where one slipway-run registry keeps its files (all under one directory, `$SLIPWAY_HOME/registry`). */
export interface RegistryFiles {
  dir: string;
  /** The registry's configuration (JSON, which the registry's YAML parser reads as YAML). */
  configFile: string;
  /** bcrypt htpasswd file of the one user. */
  htpasswdFile: string;
  /** The user's password (mode 600): hosts get it to pull, slipway's own docker CLI logs in with it. */
  passwordFile: string;
  /** Blobs and manifests (the registry's filesystem storage root). */
  storageDir: string;
  pidFile: string;
  logFile: string;
  /** A private DOCKER_CONFIG for slipway's docker CLI (its `docker login`), never the user's ~/.docker. */
  dockerConfigDir: string;
}

/** The files of a registry kept in `dir`. */
export function registryFiles(dir: string): RegistryFiles {
  return {
    dir,
    configFile: path.join(dir, 'config.json'),
    htpasswdFile: path.join(dir, 'htpasswd'),
    passwordFile: path.join(dir, 'password'),
    storageDir: path.join(dir, 'storage'),
    pidFile: path.join(dir, 'registry.pid'),
    logFile: path.join(dir, 'registry.log'),
    dockerConfigDir: path.join(dir, 'docker-config'),
  };
}

/** What the registry's configuration says: where it listens, its TLS files and its users. */
export interface RegistryConfigSpec {
  /** The address the hosts reach the server at (an IP): the registry binds there only. */
  address: string;
  port: number;
  certPath: string;
  keyPath: string;
  storageDir: string;
  htpasswdFile: string;
}

/** `10.0.0.1:7006`, `[fd00::1]:7006`: how Docker names the registry (image references, certs.d, config.json). */
export function registryEndpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * The configuration of a CNCF distribution registry (Debian's `docker-registry`, version 0.1
 * format): filesystem storage, deletes allowed (so old releases' manifests can be removed), TLS
 * with the given certificate, htpasswd (bcrypt) basic auth, no access log (a push is dozens of
 * requests; failures are still logged). Written as JSON: a YAML parser reads JSON as it is, and
 * no value can break out of its string.
 */
export function registryConfigText(spec: RegistryConfigSpec): string {
  const config = {
    version: '0.1',
    log: { level: 'info', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: spec.storageDir }, delete: { enabled: true } },
    http: {
      addr: registryEndpoint(spec.address, spec.port),
      tls: { certificate: spec.certPath, key: spec.keyPath },
      headers: { 'X-Content-Type-Options': ['nosniff'] },
    },
    auth: { htpasswd: { realm: 'slipway registry', path: spec.htpasswdFile } },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/**
 * htpasswd's argv that (re)creates `file` with `user`, its bcrypt hash made from the password read
 * on stdin (`-i`): a password on argv would show in `ps`. bcrypt at htpasswd's default cost (5):
 * the registry checks it on every request of a push, and the password is 32 random bytes, which
 * no cost factor needs to slow a guesser down for.
 */
export function htpasswdArgs(file: string, user: string): string[] {
  return ['-c', '-i', '-B', file, user];
}

/** argv of the registry: `docker-registry serve <config>`. */
export function registryServeArgs(configFile: string): string[] {
  return ['serve', configFile];
}
