import { describe, expect, it } from 'vitest';
import type { CliChoice } from '../../src/docker/build-cli';
import { checkBuilder, checkLiveRestore } from '../../src/doctor/docker';

const found = (choice: CliChoice) => async () => choice;

describe('doctor: the builder', () => {
  it('says which CLI and builder a build will use', async () => {
    const [result] = await checkBuilder('buildkit', undefined, found({ cli: { path: '/usr/bin/docker', version: '20.10.24', mode: 'builtin' } }));
    expect(result).toEqual({
      name: 'builder',
      status: 'ok',
      detail: 'builds run /usr/bin/docker 20.10.24 (BuildKit built into the CLI: DOCKER_BUILDKIT=1 docker build): BuildKit fetches only the files a push changed',
    });
    const [legacy] = await checkBuilder('legacy', undefined, found({ cli: { path: '/usr/bin/docker', version: '28.2.2', mode: 'legacy' } }));
    expect(legacy?.detail).toContain('classic builder: DOCKER_BUILDKIT=0 docker build): every build is sent the whole context');
  });

  it('fails, saying what to install, when no CLI can build', async () => {
    const [result] = await checkBuilder('buildkit', undefined, found({ problem: 'no docker CLI here can build with BuildKit', fix: 'install the buildx plugin (docker-buildx-plugin)' }));
    expect(result).toEqual({ name: 'builder', status: 'fail', detail: 'no docker CLI here can build with BuildKit', fix: 'install the buildx plugin (docker-buildx-plugin)' });
  });

  it('passes the builder and SLIPWAY_DOCKER_CLI to the finder', async () => {
    const asked: unknown[] = [];
    await checkBuilder('legacy', '/opt/docker', async (...args) => {
      asked.push(args);
      return { problem: 'x', fix: 'y' };
    });
    expect(asked).toEqual([['legacy', '/opt/docker']]);
  });
});

describe('doctor: live-restore', () => {
  it('recommends live-restore when it is off, saying why and how', async () => {
    const [off] = await checkLiveRestore({ info: async () => ({ LiveRestoreEnabled: false }) });
    expect(off).toMatchObject({ name: 'live-restore', status: 'warn' });
    expect(off?.detail).toContain('stops every app container');
    expect(off?.fix).toContain('"live-restore": true');
    const [on] = await checkLiveRestore({ info: async () => ({ LiveRestoreEnabled: true }) });
    expect(on).toMatchObject({ name: 'live-restore', status: 'ok' });
  });
});
