import type { Command } from 'commander';
import { startAgent } from '../agent/agent';
import { parseHostToken } from '../cluster/host-token';
import { parseCaFingerprint, parseServerAddress } from '../cluster/join-line';
import { createLogger } from '../logger';
import { readSettings } from '../settings';

export function registerAgentCommand(program: Command): void {
  program
    .command('agent')
    .description("run this host's agent (the line `slipway hosts:add` printed): it runs the server's jobs for this host with its Docker Engine and Apache")
    .requiredOption('--server <address:port>', "the server's Redis TLS address")
    .requiredOption('--token <token>', 'the host token')
    .requiredOption('--ca-sha256 <fingerprint>', 'the sha256 fingerprint of the cluster CA (checked before anything is sent)')
    .addHelpText(
      'after',
      "\nThis host's own settings come from the environment: DOCKER_HOST, SLIPWAY_HOME, SLIPWAY_APACHECTL,\nSLIPWAY_APACHE_SITES, SLIPWAY_APACHE_HTTP_PORT. Run it under pm2 or systemd (see docs/hosts.md).",
    )
    .action(async (opts: { server: string; token: string; caSha256: string }) => {
      const settings = readSettings();
      const log = createLogger('slipway-agent');
      const agent = await startAgent({
        server: parseServerAddress(opts.server),
        token: parseHostToken(opts.token),
        caFingerprint: parseCaFingerprint(opts.caSha256),
        settings,
        log,
      });
      const stop = async (code: number) => {
        await agent.stop();
        process.exit(code);
      };
      process.once('SIGTERM', () => void stop(0));
      process.once('SIGINT', () => void stop(0));
      const reason = await agent.stopped;
      process.stderr.write(`slipway agent: ${reason.message}\n`);
      await stop(1);
    });
}
