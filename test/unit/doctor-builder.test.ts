import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { checkBuilder } from '../../src/doctor/docker';

describe('doctor: the builder', () => {
  it('asks the Engine nothing for the classic builder', async () => {
    const docker = { modem: { dial: () => expect.fail('no session is opened for the classic builder') } } as unknown as Docker;
    expect(await checkBuilder('legacy', docker)).toEqual([expect.objectContaining({ name: 'builder', status: 'ok' })]);
  });

  it('fails, saying what to set, when the Engine opens no BuildKit session', async () => {
    const docker = {
      modem: { dial: (_options: unknown, callback: (err: Error) => void) => callback(Object.assign(new Error('(HTTP code 404) page not found'), { statusCode: 404 })) },
    } as unknown as Docker;
    const [result] = await checkBuilder('buildkit', docker);
    expect(result).toMatchObject({ name: 'builder', status: 'fail', detail: expect.stringContaining('did not open a build session: HTTP 404') });
    expect(result?.fix).toContain('SLIPWAY_BUILDER=legacy');
  });
});
