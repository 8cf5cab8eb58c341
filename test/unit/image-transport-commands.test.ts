import { describe, expect, it } from 'vitest';
import { engineEnv } from '../../src/docker/build-command';
import {
  imageIdCommand,
  loadCommand,
  loginCommand,
  pullCommand,
  pulledLayerIds,
  pushCommand,
  registryReference,
  saveCommand,
  tagCommand,
  untagCommand,
  type CliTarget,
} from '../../src/docker/image-commands';
import { htpasswdArgs, registryConfigText, registryEndpoint, registryFiles, registryServeArgs } from '../../src/docker/registry-config';

/** The parts of the registry's configuration these tests read. */
interface Config {
  version: string;
  http: { addr: string; tls: { certificate: string; key: string } };
  storage: { filesystem: { rootdirectory: string } };
  auth: unknown;
}

const target: CliTarget = {
  cli: '/usr/bin/docker',
  dockerHost: 'unix:///tmp/h2/docker.sock',
  dockerConfigDir: '/var/lib/slipway/registry/docker-config',
  parentEnv: { PATH: '/usr/bin', DOCKER_CONTEXT: 'elsewhere', DOCKER_CONFIG: '/root/.docker', HOME: '/root' },
};

describe('the registry configuration', () => {
  const files = registryFiles('/var/lib/slipway/registry');
  const spec = { address: '10.0.0.1', port: 7006, certPath: '/c/server.crt', keyPath: '/c/server.key', storageDir: files.storageDir, htpasswdFile: files.htpasswdFile };

  it('binds the cluster address only, serves TLS with the given files, stores under the home and asks for htpasswd users', () => {
    const config = JSON.parse(registryConfigText(spec)) as Config;
    expect(config.version).toBe('0.1');
    expect(config.http.addr).toBe('10.0.0.1:7006');
    expect(config.http.tls).toEqual({ certificate: '/c/server.crt', key: '/c/server.key' });
    expect(config.storage.filesystem.rootdirectory).toBe('/var/lib/slipway/registry/storage');
    expect(config.auth).toEqual({ htpasswd: { realm: 'slipway registry', path: '/var/lib/slipway/registry/htpasswd' } });
  });

  it('names an IPv6 registry with brackets, as Docker does', () => {
    expect(registryEndpoint('fd00::1', 7006)).toBe('[fd00::1]:7006');
    expect((JSON.parse(registryConfigText({ ...spec, address: 'fd00::1' })) as Config).http.addr).toBe('[fd00::1]:7006');
  });

  it('keeps a path with quotes or newlines inside its string', () => {
    const config = JSON.parse(registryConfigText({ ...spec, certPath: '/c/"x"\nauth: none' })) as Config;
    expect(config.http.tls.certificate).toBe('/c/"x"\nauth: none');
    expect(Object.keys(config).sort()).toEqual(['auth', 'http', 'log', 'storage', 'version']);
  });

  it('makes the bcrypt hash from a password on stdin, never on argv', () => {
    expect(htpasswdArgs('/r/htpasswd', 'slipway')).toEqual(['-c', '-i', '-B', '/r/htpasswd', 'slipway']);
    expect(registryServeArgs('/r/config.json')).toEqual(['serve', '/r/config.json']);
  });
});

describe('docker CLI commands for moving images', () => {
  it('talk to the given Engine with the private DOCKER_CONFIG, whatever the parent environment says', () => {
    const command = pushCommand(target, '10.0.0.1:7006/web:abc');
    expect(command.file).toBe('/usr/bin/docker');
    expect(command.args).toEqual(['push', '10.0.0.1:7006/web:abc']);
    expect(command.env.DOCKER_HOST).toBe('unix:///tmp/h2/docker.sock');
    expect(command.env.DOCKER_CONFIG).toBe('/var/lib/slipway/registry/docker-config');
    expect(command.env).not.toHaveProperty('DOCKER_CONTEXT');
    expect(command.env.PATH).toBe('/usr/bin');
  });

  it('default to the local socket when no DOCKER_HOST is given', () => {
    expect(engineEnv({ DOCKER_HOST: ' ' }, undefined).DOCKER_HOST).toBe('unix:///var/run/docker.sock');
    expect(saveCommand({ ...target, dockerHost: undefined }, 'web:abc').env.DOCKER_HOST).toBe('unix:///var/run/docker.sock');
  });

  it('log in with the password on stdin', () => {
    const args = loginCommand(target, '10.0.0.1:7006', 'slipway').args;
    expect(args).toEqual(['login', '--username', 'slipway', '--password-stdin', '10.0.0.1:7006']);
  });

  it('name, pull, untag, inspect, save and load', () => {
    expect(registryReference('10.0.0.1:7006', 'web', 'abc')).toBe('10.0.0.1:7006/web:abc');
    expect(tagCommand(target, 'a:1', 'b:1').args).toEqual(['tag', 'a:1', 'b:1']);
    expect(pullCommand(target, 'r/web:abc').args).toEqual(['pull', 'r/web:abc']);
    expect(untagCommand(target, 'r/web:abc').args).toEqual(['rmi', 'r/web:abc']);
    expect(imageIdCommand(target, 'web:abc').args).toEqual(['image', 'inspect', '--format', '{{.Id}}', 'web:abc']);
    expect(saveCommand(target, 'web:abc').args).toEqual(['save', 'web:abc']);
    expect(loadCommand(target).args).toEqual(['load']);
  });
});

describe('what docker pull downloaded', () => {
  it('is the layers it says Pull complete for, not those that already existed', () => {
    const output = [
      'abc: Pulling from web',
      '1111aaaa2222: Already exists',
      '3333bbbb4444: Pulling fs layer',
      '5555cccc6666: Pulling fs layer',
      '3333bbbb4444: Verifying Checksum',
      '3333bbbb4444: Download complete',
      '3333bbbb4444: Pull complete',
      '5555cccc6666: Pull complete',
      'Digest: sha256:0123',
      'Status: Downloaded newer image for 10.0.0.1:7006/web:abc',
    ].join('\n');
    expect([...pulledLayerIds(output)].sort()).toEqual(['3333bbbb4444', '5555cccc6666']);
    expect(pulledLayerIds('Status: Image is up to date for r/web:abc\n').size).toBe(0);
  });
});
