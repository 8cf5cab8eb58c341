import { checkApache, checkTemplates } from './apache';
import { guarded, type CheckResult } from './check';
import { checkBuilder, checkDocker, checkLiveRestore, dockerRootDir } from './docker';
import { checkRedis } from './redis';
import { checkRegistry } from './registry';
import { checkTls } from './tls';
import { checkDisk, checkGit, checkHome, checkPorts, checkState, checkToken, readSettingsForDoctor } from './system';

/**
 * Runs every check of `slipway doctor` (concurrently, each bounded in time) and returns the results
 * in a fixed order: settings, Docker and its builder, Apache, templates, TLS (mod_md), Redis, the image registry, git, home, state, token,
 * ports, disk.
 */
export async function runDoctor(env: NodeJS.ProcessEnv = process.env): Promise<CheckResult[]> {
  const { settings, results: settingsResults } = readSettingsForDoctor(env);
  const groups = await Promise.all([
    // The builder is only worth asking about when the Engine answers at all.
    guarded('docker', async () => {
      const docker = await checkDocker();
      return docker.some((r) => r.status === 'fail') ? docker : [...docker, ...(await checkLiveRestore()), ...(await checkBuilder(settings.builder, settings.dockerCli))];
    }),
    guarded('apache', () => checkApache(settings), 70_000),
    guarded('templates', () => checkTemplates(settings)),
    guarded('tls', () => checkTls(settings), 30_000),
    guarded('redis', () => checkRedis(settings)),
    guarded('registry', () => checkRegistry(settings)),
    guarded('git', () => checkGit()),
    guarded('home', () => checkHome(settings)),
    guarded('state', () => checkState(settings)),
    guarded('token', () => checkToken(settings)),
    guarded('ports', () => checkPorts(settings)),
    guarded('disk', async () => checkDisk(settings, await dockerRootDir())),
  ]);
  return [...settingsResults, ...groups.flat()];
}
