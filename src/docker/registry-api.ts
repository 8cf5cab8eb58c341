import https from 'node:https';

/** How to reach a registry's HTTP API: its `host:port`, the CA its certificate chains to, and (optionally) a user. */
export interface RegistryAccess {
  /** `10.0.0.1:7006` (see registryEndpoint). */
  endpoint: string;
  /** PEM of the CA that signed the registry's certificate. */
  ca: string;
  credentials?: { user: string; password: string };
}

/** One blob an image manifest names: a layer or the image's config. */
export interface ManifestBlob {
  digest: string;
  size: number;
}

/** The parts of an image manifest (schema 2) slipway reads. */
export interface ImageManifest {
  config: ManifestBlob;
  layers: ManifestBlob[];
}

const MANIFEST_V2 = 'application/vnd.docker.distribution.manifest.v2+json';
const REQUEST_TIMEOUT_MS = 10_000;

/** The HTTP status of `GET /v2/` (the API's version check): 401 without valid credentials, 200 with. */
export async function registryStatus(access: RegistryAccess): Promise<number> {
  return (await get(access, '/v2/', {})).status;
}

/**
 * The manifest of `repository:tag`, or undefined when the registry has no such tag (404). Throws
 * on any other answer, naming the registry.
 */
export async function readManifest(access: RegistryAccess, repository: string, tag: string): Promise<ImageManifest | undefined> {
  const answer = await get(access, `/v2/${repository}/manifests/${tag}`, { accept: MANIFEST_V2 });
  if (answer.status === 404) return undefined;
  if (answer.status !== 200) throw new Error(`the image registry at ${access.endpoint} answered ${answer.status} for ${repository}:${tag}: ${answer.body.slice(0, 200)}`);
  const manifest = JSON.parse(answer.body) as ImageManifest;
  return { config: manifest.config, layers: manifest.layers };
}

function get(access: RegistryAccess, urlPath: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const [host, port] = splitEndpoint(access.endpoint);
  const auth = access.credentials ? { authorization: `Basic ${Buffer.from(`${access.credentials.user}:${access.credentials.password}`).toString('base64')}` } : {};
  return new Promise((resolve, reject) => {
    const request = https.get({ host, port, path: urlPath, ca: access.ca, headers: { ...headers, ...auth }, timeout: REQUEST_TIMEOUT_MS, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
    request.on('error', (err) => reject(new Error(`the image registry at ${access.endpoint} cannot be reached: ${err.message}`)));
  });
}

/** `10.0.0.1:7006` → [`10.0.0.1`, 7006]; `[fd00::1]:7006` → [`fd00::1`, 7006]. */
function splitEndpoint(endpoint: string): [string, number] {
  const at = endpoint.lastIndexOf(':');
  return [endpoint.slice(0, at).replace(/^\[|\]$/g, ''), Number(endpoint.slice(at + 1))];
}
