/** The facts a benchmark result is meaningless without: machine, versions, date, code state. */
import os from 'node:os';
import { exec } from './exec';

/** Label → value, in display order. */
export type Facts = [string, string][];

/**
 * Collects nproc, memory, kernel, Node, Docker, Apache and git versions, the date, how busy the
 * machine already is, and slipway's commit (call it before the benchmark starts anything).
 */
export async function machineFacts(repoDir: string): Promise<Facts> {
  const first = async (file: string, args: string[]): Promise<string> => {
    const r = await exec(file, args, 15_000);
    return (r.stdout || r.stderr).trim().split('\n')[0] || `unknown (${file} exited ${r.code})`;
  };
  const [docker, apache, git, nproc, head, dirty, containers] = await Promise.all([
    first('docker', ['version', '--format', 'Engine {{.Server.Version}} (API {{.Server.APIVersion}})']),
    first('apache2', ['-v']),
    first('git', ['--version']),
    first('nproc', []),
    first('git', ['-C', repoDir, 'rev-parse', '--short', 'HEAD']),
    exec('git', ['-C', repoDir, 'status', '--porcelain', '--', 'src'], 15_000),
    exec('docker', ['ps', '-q'], 15_000),
  ]);
  const changed = dirty.stdout.split('\n').filter(Boolean).length;
  return [
    ['date', new Date().toISOString()],
    ['nproc', nproc],
    ['memory', `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`],
    ['kernel', `${os.type()} ${os.release()}`],
    ['node', process.version],
    ['docker', docker],
    ['apache', apache.replace(/^Server version:\s*/, '')],
    ['git', git],
    // Other work on the machine (a test suite, another benchmark) skews every figure: say so.
    [
      'load average at start',
      os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' / '),
    ],
    ['other containers running at start', String(containers.stdout.split('\n').filter(Boolean).length)],
    ['slipway', `${head}${changed ? ` + ${changed} uncommitted change(s) under src/` : ''} (dist/ built from the tree at run time)`],
  ];
}
