import { describe, expect, it } from 'vitest';
import { chooseBuildCli, describeBuildCli, type CliProbe } from '../../src/docker/build-cli';

const cli28 = { path: '/usr/local/bin/docker', version: '28.2.2', buildx: false } satisfies CliProbe;
const cli28buildx = { ...cli28, buildx: true } satisfies CliProbe;
const debian = { path: '/usr/bin/docker', version: '20.10.24+dfsg1', buildx: false } satisfies CliProbe;
const broken = { path: '/opt/docker', version: undefined, buildx: false } satisfies CliProbe;

describe('chooseBuildCli', () => {
  it('passes over a CLI from 23 on without buildx for an older one, which has BuildKit built in (this machine)', () => {
    expect(chooseBuildCli('buildkit', [cli28, debian])).toEqual({ cli: { path: '/usr/bin/docker', version: '20.10.24+dfsg1', mode: 'builtin' } });
  });

  it('takes the first CLI with a working buildx plugin (Docker CE)', () => {
    expect(chooseBuildCli('buildkit', [cli28buildx, debian])).toEqual({ cli: { path: cli28.path, version: '28.2.2', mode: 'buildx' } });
    expect(chooseBuildCli('buildkit', [{ ...debian, buildx: true }])).toMatchObject({ cli: { mode: 'buildx' } });
  });

  it('skips a CLI that does not run', () => {
    expect(chooseBuildCli('buildkit', [broken, debian])).toMatchObject({ cli: { path: '/usr/bin/docker', mode: 'builtin' } });
  });

  it('says what to install when only a newer CLI without buildx is there', () => {
    const choice = chooseBuildCli('buildkit', [cli28]);
    expect(choice).toEqual({
      problem: 'no docker CLI here can build with BuildKit: /usr/local/bin/docker 28.2.2 has no buildx plugin, and CLIs from 23.0 on need it',
      fix: expect.stringContaining('install the buildx plugin (docker-buildx-plugin)'),
    });
    expect('fix' in choice && choice.fix).toContain('SLIPWAY_BUILDER=legacy');
  });

  it('builds with the classic builder on the first CLI that runs, whatever its version', () => {
    expect(chooseBuildCli('legacy', [broken, cli28, debian])).toEqual({ cli: { path: cli28.path, version: '28.2.2', mode: 'legacy' } });
  });

  it('names SLIPWAY_DOCKER_CLI when the CLI it points at does not run, and says when there is no CLI at all', () => {
    expect(chooseBuildCli('buildkit', [broken], '/opt/docker')).toMatchObject({ problem: 'SLIPWAY_DOCKER_CLI=/opt/docker does not run (`/opt/docker --version` failed)' });
    expect(chooseBuildCli('legacy', [])).toMatchObject({ problem: expect.stringContaining('no docker CLI found'), fix: expect.stringContaining('apt-get install docker.io') });
  });

  it('an overriding CLI is held to the same rules', () => {
    expect(chooseBuildCli('buildkit', [cli28], cli28.path)).toMatchObject({ problem: expect.stringContaining('no buildx plugin') });
    expect(chooseBuildCli('buildkit', [debian], debian.path)).toMatchObject({ cli: { mode: 'builtin' } });
  });
});

describe('describeBuildCli', () => {
  it('says the path, the version and how it builds', () => {
    expect(describeBuildCli({ path: '/usr/bin/docker', version: '20.10.24', mode: 'builtin' })).toBe('/usr/bin/docker 20.10.24 (BuildKit built into the CLI: DOCKER_BUILDKIT=1 docker build)');
    expect(describeBuildCli({ path: '/usr/bin/docker', version: '28.0.1', mode: 'buildx' })).toContain('buildx plugin: docker buildx build');
    expect(describeBuildCli({ path: '/usr/bin/docker', version: '28.0.1', mode: 'legacy' })).toContain('classic builder: DOCKER_BUILDKIT=0 docker build');
  });
});
