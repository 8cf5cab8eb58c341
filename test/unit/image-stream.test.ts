import { describe, expect, it } from 'vitest';
import { streamImageBetweenEngines } from '../../src/docker/image-stream';
import type { DockerCommand } from '../../src/docker/image-commands';

/** A stand-in for a docker CLI: node running `script`, with DOCKER_HOST naming the "Engine". */
function node(script: string, engine: string): DockerCommand {
  return { file: process.execPath, args: ['-e', script], env: { ...process.env, DOCKER_HOST: engine } };
}

/** Reads stdin to the end and exits 0 when it got exactly `bytes`, else 3. */
const consume = (bytes: number) => `let n = 0; process.stdin.on('data', (c) => (n += c.length)).on('end', () => process.exit(n === ${bytes} ? 0 : 3));`;

describe('docker save piped into docker load', () => {
  it('passes every byte through and counts them', async () => {
    const size = 3 * 1024 * 1024 + 17;
    const result = await streamImageBetweenEngines(node(`process.stdout.write(Buffer.alloc(${size}, 7))`, 'unix:///a.sock'), node(consume(size), 'unix:///b.sock'), 30_000);
    expect(result.bytes).toBe(size);
  });

  it('names the side that failed, with its own words', async () => {
    const save = node("process.stderr.write('Error: No such image: web:abc\\n'); process.exit(1)", 'unix:///server.sock');
    await expect(streamImageBetweenEngines(save, node(consume(0), 'unix:///host.sock'), 30_000)).rejects.toThrow(
      'docker save failed on the source Engine (unix:///server.sock): Error: No such image: web:abc',
    );
    const load = node("process.stdin.resume(); process.stderr.write('no space left on device\\n'); process.exit(1)", 'unix:///host.sock');
    await expect(streamImageBetweenEngines(node('process.stdout.write(Buffer.alloc(1024))', 'unix:///server.sock'), load, 30_000)).rejects.toThrow(
      'docker load failed on the target Engine (unix:///host.sock): no space left on device',
    );
  });

  it('stops both sides at the deadline', async () => {
    const hang = node('setInterval(() => undefined, 1000)', 'unix:///server.sock');
    await expect(streamImageBetweenEngines(hang, node(consume(0), 'unix:///host.sock'), 300)).rejects.toThrow('it took longer than 0.3 s and was stopped');
  });
});
