import { describe, expect, it } from 'vitest';
import { buildCommand } from '../../src/docker/build-command';

const tags = ['shop:0123abc', 'shop:latest'];
const dir = '/var/lib/slipway/worktrees/shop';

describe('buildCommand', () => {
  it('buildx: docker buildx build --load, plain progress, both tags, the work tree as context', () => {
    const command = buildCommand({ path: '/usr/bin/docker', version: '28.2.2', mode: 'buildx' }, dir, tags, { PATH: '/usr/bin' });
    expect(command.file).toBe('/usr/bin/docker');
    expect(command.args).toEqual(['buildx', 'build', '--load', '--progress=plain', '-t', 'shop:0123abc', '-t', 'shop:latest', '--', dir]);
    expect(command.env.DOCKER_BUILDKIT).toBeUndefined();
  });

  it('a CLI older than 23: DOCKER_BUILDKIT=1 docker build', () => {
    const command = buildCommand({ path: '/usr/bin/docker', version: '20.10.24', mode: 'builtin' }, dir, tags, {});
    expect(command.args).toEqual(['build', '--progress=plain', '-t', 'shop:0123abc', '-t', 'shop:latest', '--', dir]);
    expect(command.env.DOCKER_BUILDKIT).toBe('1');
  });

  it("legacy: DOCKER_BUILDKIT=0 docker build, removing a failed step's container", () => {
    const command = buildCommand({ path: '/usr/local/bin/docker', version: '28.2.2', mode: 'legacy' }, dir, tags, {});
    expect(command.args).toEqual(['build', '--force-rm', '-t', 'shop:0123abc', '-t', 'shop:latest', '--', dir]);
    expect(command.env.DOCKER_BUILDKIT).toBe('0');
  });

  it('builds on the Engine dockerode uses: DOCKER_HOST kept or set to the default socket, the CLI context dropped', () => {
    const cli = { path: '/usr/bin/docker', version: '20.10.24', mode: 'builtin' } as const;
    expect(buildCommand(cli, dir, tags, { DOCKER_HOST: 'tcp://10.0.0.2:2376', DOCKER_TLS_VERIFY: '1', HOME: '/root' }).env).toMatchObject({
      DOCKER_HOST: 'tcp://10.0.0.2:2376',
      DOCKER_TLS_VERIFY: '1',
      HOME: '/root',
    });
    const env = buildCommand(cli, dir, tags, { DOCKER_CONTEXT: 'remote', DOCKER_HOST: ' ' }).env;
    expect(env.DOCKER_HOST).toBe('unix:///var/run/docker.sock');
    expect(env).not.toHaveProperty('DOCKER_CONTEXT');
  });
});
