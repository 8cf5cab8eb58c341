import { randomUUID } from 'node:crypto';
import type Docker from 'dockerode';
import { buildContextStream } from './build-context';
import { buildEventText, buildFailure, type BuildEvent } from './build-output';
import { BuildkitProgress } from './buildkit-progress';
import { openBuildSession } from './buildkit-session';
import type { Builder } from '../settings';
import type { SentFiles } from './file-sync';

/** Thrown when `docker build` reports a failure. */
export class BuildFailedError extends Error {}

/**
 * Builds `dir` (a Dockerfile at its root) into an image with every tag in `tags`, passing each line
 * of build output to `onLine`.
 *
 * `buildkit` (the default) serves the context through a session, as `docker buildx build` does:
 * BuildKit keeps its copy of the last build's context and fetches only the files whose size or
 * time changed, so a push that changed one file of a 100 MB tree sends one file. `legacy` streams
 * the whole context as a tar on every build, for Engines without BuildKit.
 */
export async function buildImage(docker: Docker, builder: Builder, dir: string, tags: string[], onLine: (line: string) => void): Promise<void> {
  if (builder === 'legacy') {
    // dockerode's types say `t` is a string; the Engine API takes the parameter repeated, one per tag.
    const stream = await docker.buildImage(await buildContextStream(dir), { t: tags as unknown as string, rm: true, forcerm: true });
    const failure = buildFailure(await followBuild(docker, stream, (event) => emit(buildEventText(event), onLine)));
    if (failure !== undefined) throw new BuildFailedError(failure);
    return;
  }
  const session = await openBuildSession(docker, dir).catch((err: Error) => {
    throw new BuildFailedError(`the Docker Engine did not open a BuildKit session (${err.message}); SLIPWAY_BUILDER=legacy builds with the classic builder instead`);
  });
  try {
    // Not dockerode's buildImage: with version 2 it opens its own session, which cannot serve files.
    const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
      docker.modem.dial(
        {
          path: '/build?',
          method: 'POST',
          options: { version: '2', session: session.id, remote: 'client-session', dockerfile: 'Dockerfile', t: tags, buildid: randomUUID() },
          // An empty tar body, as the docker CLI sends: without one docker-modem sends the options as
          // a JSON body, and the Engine holds back all build output until a body it never reads is read.
          file: Buffer.alloc(0),
          isStream: true,
          statusCodes: { 200: true, 400: 'bad parameter', 500: 'server error' },
        },
        (err, result) => (err ? reject(err) : resolve(result as NodeJS.ReadableStream)),
      ),
    );
    const progress = new BuildkitProgress();
    const events = await followBuild(docker, stream, (event) => {
      if (event.id === 'moby.buildkit.trace' && typeof event.aux === 'string') for (const line of progress.lines(event.aux)) onLine(line);
      else if (event.id !== 'moby.image.id') emit(buildEventText(event), onLine);
    });
    const failure = buildFailure(events);
    if (failure !== undefined) throw new BuildFailedError(session.transferError()?.message ?? failure);
    onLine(contextSummary(session.sent()));
  } finally {
    session.close();
  }
}

/** What the build fetched from the work tree, for the pusher: a push that changed one file sends one. */
export function contextSummary(sent: SentFiles): string {
  if (sent.files === 0) return 'context: no file changed since the last build, nothing sent';
  return `context: ${sent.files} file${sent.files === 1 ? '' : 's'} sent (${formatBytes(sent.bytes)}); unchanged files are reused from the last build`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

function emit(text: string | undefined, onLine: (line: string) => void): void {
  if (text !== undefined) for (const line of text.split('\n')) onLine(line);
}

/** All events of a build response; docker-modem resolves even when the build failed (see buildFailure). */
function followBuild(docker: Docker, stream: NodeJS.ReadableStream, onEvent: (event: BuildEvent) => void): Promise<BuildEvent[]> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, output: BuildEvent[]) => (err ? reject(err) : resolve(output)), onEvent);
  });
}
