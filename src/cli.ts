#!/usr/bin/env node
import { Command } from 'commander';
import { registerAppCommands } from './cli/app-commands';
import { registerAppControlCommands } from './cli/app-control-commands';
import { registerAuditCommands } from './cli/audit-commands';
import { registerRunCommand } from './cli/run-command';
import { registerBackupCommand } from './cli/backup-command';
import { registerConfigCommands, registerWebhookCommands } from './cli/config-commands';
import { registerDeployCommands } from './cli/deploy-commands';
import { registerDoctorCommands } from './cli/doctor-commands';
import { registerKeyCommands } from './cli/key-commands';
import { registerPsCommands } from './cli/ps-commands';
import { registerReleaseCommands } from './cli/release-commands';
import { registerServeCommands } from './cli/serve-commands';
import { registerSettingsCommands } from './cli/settings-commands';
import { registerTokenCommands } from './cli/token-commands';
import { SLIPWAY_VERSION } from './version';
import { registerTlsCommands } from './cli/tls-commands';
import { registerHostCommands } from './cli/host-commands';
import { registerAgentCommand } from './cli/agent-command';

const program = new Command();
program
  .name('slipway')
  .description('git push-to-deploy with zero downtime, for one plain VM (Docker + Apache)')
  .version(SLIPWAY_VERSION, '-V, --version', "print slipway's version")
  .showHelpAfterError()
  .addHelpText(
    'after',
    `
Settings come from the environment (see README "Configuration"): SLIPWAY_HOME, SLIPWAY_PORT,
SLIPWAY_TOKEN, REDIS_URL, SLIPWAY_APACHECTL, SLIPWAY_APACHE_SITES, DOCKER_HOST, …

Examples:
  slipway up                       # git server + worker + embedded Redis in one process
  slipway status                   # what is live
  slipway releases myapp           # release history
  slipway rollback myapp           # back to the previous release, no build`,
  );

registerServeCommands(program);
registerReleaseCommands(program);
registerConfigCommands(program);
registerWebhookCommands(program);
registerDeployCommands(program);
registerAppCommands(program);
registerTokenCommands(program);
registerKeyCommands(program);
registerSettingsCommands(program);
registerDoctorCommands(program);
registerAppControlCommands(program);
registerPsCommands(program);
registerRunCommand(program);
registerAuditCommands(program);
registerBackupCommand(program);
registerTlsCommands(program);
registerHostCommands(program);
registerAgentCommand(program);

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`slipway: ${err.message}\n`);
  process.exit(1);
});
