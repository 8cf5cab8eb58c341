import { execFile } from 'node:child_process';

/** The two things slipway asks of Apache; argv arrays only. */
export interface ApacheCtl {
  /** Runs `<cmd> configtest`; resolves with Apache's complaint when the config is bad. */
  configtest(): Promise<{ ok: boolean; output: string }>;
  graceful(): Promise<void>;
}

/** An apachectl-compatible command (`apachectl`, `apache2ctl`, or a wrapper) given as argv. */
export function createApacheCtl(command: string[]): ApacheCtl {
  const run = (action: string) =>
    new Promise<{ code: number; output: string }>((resolve) => {
      execFile(command[0], [...command.slice(1), action], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, output: `${stdout}${stderr}`.trim() || (err?.message ?? '') });
      });
    });
  return {
    async configtest() {
      const { code, output } = await run('configtest');
      return { ok: code === 0, output };
    },
    async graceful() {
      const { code, output } = await run('graceful');
      if (code !== 0) throw new Error(`apache graceful reload failed: ${output}`);
    },
  };
}
