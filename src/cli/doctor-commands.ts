import type { Command } from 'commander';
import { runDoctor } from '../doctor/doctor';
import { exitCodeFor, formatReport } from '../doctor/report';
import { SLIPWAY_VERSION } from '../version';

export function registerDoctorCommands(program: Command): void {
  program
    .command('doctor')
    .description('check this machine for slipway (Docker, Apache, Redis, git, home, token, templates, ports, disk) and say what to fix')
    .option('--json', 'print the results as JSON')
    .addHelpText(
      'after',
      `
One line per check: ✔ fine, ! worth a look, ✘ must be fixed (with → what to do).
Exits 1 when any check is ✘. Run it with the same environment as \`slipway up\`.

Examples:
  slipway doctor
  SLIPWAY_HOME=/var/lib/slipway SLIPWAY_APACHECTL=apache2ctl slipway doctor
  slipway doctor --json | jq '.checks[] | select(.status != "ok")'`,
    )
    .action(async (opts: { json?: boolean }) => {
      const results = await runDoctor();
      process.stdout.write(formatReport(results, { json: opts.json, version: SLIPWAY_VERSION }));
      process.exitCode = exitCodeFor(results);
    });
}
