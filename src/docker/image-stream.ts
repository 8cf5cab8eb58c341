import { spawn, type ChildProcess } from 'node:child_process';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DockerCommand } from './image-commands';

/** Thrown when `docker save | docker load` fails; the message names the side that failed and its words. */
export class ImageStreamError extends Error {}

const STDERR_KEPT = 4000;

/**
 * Runs `save` (a `docker save` on one Engine) and `load` (a `docker load` on another) with the
 * first's stdout piped into the second's stdin through a byte counter: no temp file, no shell, and
 * at most a few pipe buffers of the image in memory. Resolves with the bytes of tar that passed;
 * past `timeoutMs` both are killed and it fails.
 */
export async function streamImageBetweenEngines(save: DockerCommand, load: DockerCommand, timeoutMs: number): Promise<{ bytes: number }> {
  const saver = spawn(save.file, save.args, { env: save.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const loader = spawn(load.file, load.args, { env: load.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    saver.kill('SIGKILL');
    loader.kill('SIGKILL');
  }, timeoutMs);
  const saverExit = exited(saver);
  const loaderExit = exited(loader);
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  loader.stdout.resume();
  const piped = pipeline(saver.stdout, counter, loader.stdin).then(
    () => undefined,
    (err: Error) => err,
  );
  const [pipeError, saved, loaded] = await Promise.all([piped, saverExit, loaderExit]);
  clearTimeout(deadline);
  if (timedOut) throw new ImageStreamError(`it took longer than ${timeoutMs / 1000} s and was stopped`);
  // When one side fails the other usually fails too (a broken pipe, a cut tar): name both.
  const failures = [
    ...(saved.code !== 0 ? [`docker save failed on the source Engine (${save.env.DOCKER_HOST}): ${saved.stderr.trim() || `exit ${saved.code}`}`] : []),
    ...(loaded.code !== 0 ? [`docker load failed on the target Engine (${load.env.DOCKER_HOST}): ${loaded.stderr.trim() || `exit ${loaded.code}`}`] : []),
  ];
  if (failures.length > 0) throw new ImageStreamError(failures.join('; '));
  if (pipeError) throw new ImageStreamError(`the image stream broke: ${pipeError.message}`);
  return { bytes };
}

function exited(child: ChildProcess): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-STDERR_KEPT)));
  return new Promise((resolve) => {
    child.on('error', (err) => resolve({ code: -1, stderr: err.message }));
    child.on('close', (code) => resolve({ code: code ?? -1, stderr }));
  });
}
