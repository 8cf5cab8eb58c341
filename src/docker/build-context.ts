import path from 'node:path';
import { promises as fs } from 'node:fs';
import type { Readable } from 'node:stream';
import dockerignore from '@balena/dockerignore';
import tar from 'tar-fs';

/** Files sent even when .dockerignore names them, as the docker CLI does. */
const ALWAYS_SENT = new Set(['Dockerfile', '.dockerignore']);

/** The predicate "send this path" for a .dockerignore text; paths are relative, with "/". */
export function dockerignoreFilter(text: string | undefined): (relativePath: string) => boolean {
  if (text === undefined) return () => true;
  const accepts = dockerignore({ ignorecase: false }).add(text).createFilter();
  return (relativePath) => ALWAYS_SENT.has(relativePath) || accepts(relativePath);
}

/**
 * The build context of a checked-out directory as an uncompressed tar stream, honouring
 * .dockerignore. Uncompressed on purpose: the Engine is on the same machine, and gzipping a
 * 100 MB context in this process costs seconds of CPU that the build and the live app need
 * (dockerode's own context helper gzips).
 */
export async function buildContextStream(dir: string): Promise<Readable> {
  const text = await fs.readFile(path.join(dir, '.dockerignore'), 'utf8').catch(() => undefined);
  const send = dockerignoreFilter(text);
  return tar.pack(dir, { ignore: (name) => !send(path.relative(dir, name).split(path.sep).join('/')) });
}
