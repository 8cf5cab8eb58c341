import { createHash, randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import type Docker from 'dockerode';
import { readDockerignore } from './build-context';
import { listContextFiles, type ContextFilter } from './context-files';
import { sendFiles, type SentFiles } from './file-sync';
import { decodePacket, encodePacket, PacketType, type Packet } from './fsutil-packet';

/** A BuildKit session: the Engine calls back into it over the same connection to fetch the build context. */
export interface BuildSession {
  id: string;
  /** The first failure of a file transfer on slipway's side (listing or reading the work tree), if any: a clearer reason than the builder's own. */
  transferError(): Error | undefined;
  /** What the builder fetched so far, over all its transfers (context, Dockerfile, .dockerignore). */
  sent(): SentFiles;
  close(): void;
}

const DIFF_COPY = '/moby.filesync.v1.FileSync/DiffCopy';
const HEALTH_CHECK = '/grpc.health.v1.Health/Check';

const fileSyncService: grpc.ServiceDefinition = {
  DiffCopy: {
    path: DIFF_COPY,
    requestStream: true,
    responseStream: true,
    requestDeserialize: decodePacket,
    requestSerialize: encodePacket,
    responseSerialize: encodePacket,
    responseDeserialize: decodePacket,
  },
};

/** BuildKit checks the session's health every second and drops a session that stops answering. */
const SERVING = Buffer.from([0x08, 0x01]);
const healthService: grpc.ServiceDefinition = {
  Check: {
    path: HEALTH_CHECK,
    requestStream: false,
    responseStream: false,
    requestDeserialize: (bytes: Buffer) => bytes,
    requestSerialize: (value: Buffer) => value,
    responseSerialize: () => SERVING,
    responseDeserialize: (bytes: Buffer) => bytes,
  },
};

/**
 * Opens a session on the Engine (`POST /session`, upgraded to HTTP/2 with slipway as the gRPC
 * server) that serves `dir` as both the build context and the Dockerfile's directory. The shared
 * key is derived from `dir`, so BuildKit reuses its copy of the previous build's context and asks
 * only for what changed since.
 */
export async function openBuildSession(docker: Docker, dir: string): Promise<BuildSession> {
  const id = randomUUID();
  const socket = await new Promise<Duplex>((resolve, reject) => {
    docker.modem.dial(
      {
        method: 'POST',
        path: '/session',
        hijack: true,
        headers: {
          Upgrade: 'h2c',
          'X-Docker-Expose-Session-Uuid': id,
          'X-Docker-Expose-Session-Name': 'slipway',
          'X-Docker-Expose-Session-Sharedkey': createHash('sha256').update(`slipway:${dir}`).digest('hex'),
          'X-Docker-Expose-Session-Grpc-Method': [DIFF_COPY, HEALTH_CHECK],
        },
        statusCodes: { 101: true, 200: true, 400: 'bad request', 404: 'this Engine has no BuildKit sessions', 500: 'server error' },
      },
      (err, sock) => (err ? reject(err) : resolve(sock as Duplex)),
    );
  });
  let transferError: Error | undefined;
  const sent: SentFiles = { files: 0, bytes: 0 };
  const server = new grpc.Server();
  server.addService(fileSyncService, {
    DiffCopy: (call: grpc.ServerDuplexStream<Packet, Packet>) => {
      // A call the builder cancels (its build failed) may still be written to below: that error
      // must not crash the server, and the build's own failure says more than "cancelled".
      call.on('error', () => undefined);
      const send = (packet: Packet) => new Promise<void>((resolve, reject) => call.write(packet, (err?: Error | null) => (err ? reject(err) : resolve())));
      serveDirectory(dir, call)
        // Not destroyed on return: that would cancel the call instead of ending it with OK.
        .then((files) => sendFiles(files, call.iterator({ destroyOnReturn: false }), send))
        .then(
          (done) => {
            sent.files += done.files;
            sent.bytes += done.bytes;
            call.end();
          },
          (err: Error) => {
            transferError ??= err;
            call.write({ type: PacketType.Err, id: 0, data: Buffer.from(err.message) });
            call.end();
          },
        );
    },
  });
  server.addService(healthService, { Check: (_call: unknown, callback: grpc.sendUnaryData<Buffer>) => callback(null, SERVING) });
  // An Engine that goes away mid-build fails the build (its response ends); the socket's own
  // error must not also take the whole server down.
  socket.on('error', () => undefined);
  server.createConnectionInjector(grpc.ServerCredentials.createInsecure()).injectConnection(socket);
  // Node's HTTP/2 session hands what the Engine already sent (read along with the 101) to its
  // handle on the next tick; a session closed before that tick crashes the process (a TypeError
  // inside node:http2). One turn of the event loop lets it happen first.
  await new Promise((resolve) => setImmediate(resolve));
  return {
    id,
    transferError: () => transferError,
    sent: () => ({ ...sent }),
    close() {
      server.forceShutdown();
      socket.destroy();
    },
  };
}

/**
 * The files one DiffCopy call asks for: `dir-name` is `context` or `dockerfile`, both the work tree
 * here. As the docker CLI does, the context's exclusions are read from its own `.dockerignore`
 * rather than taken from the request, where they would arrive comma-joined.
 */
async function serveDirectory(dir: string, call: grpc.ServerDuplexStream<Packet, Packet>) {
  const name = metadataValues(call.metadata, 'dir-name')[0];
  if (name !== 'context' && name !== 'dockerfile') throw new Error(`the builder asked for an unknown directory ${JSON.stringify(name)}`);
  const filter: ContextFilter = {
    includePatterns: metadataValues(call.metadata, 'include-patterns'),
    excludePatterns: name === 'context' ? await readDockerignore(dir) : [],
    followPaths: metadataValues(call.metadata, 'followpaths'),
  };
  return listContextFiles(dir, filter);
}

/**
 * A metadata key's values. Node's HTTP/2 layer joins a repeated header with ", ", so the values
 * are split there again (a pattern containing ", " cannot be told apart). BuildKit query-escapes
 * non-ASCII values and says so in `<key>-encoded`.
 */
function metadataValues(metadata: grpc.Metadata, key: string): string[] {
  const values = metadata
    .get(key)
    .flatMap((v) => v.toString().split(', '))
    .filter((v) => v !== '');
  if (metadata.get(`${key}-encoded`)[0]?.toString() !== '1') return values;
  return values.map((v) => decodeURIComponent(v.replace(/\+/g, ' ')));
}
