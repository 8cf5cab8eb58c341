import type { Command } from 'commander';
import { apacheSitesFromSettings } from '../apache/apache-sites';
import { cliActor } from '../audit/audit-log';
import { certificateLine, readAppCertificates } from '../tls/app-certificates';
import { parseAppSettings } from '../app-settings';
import { readFileAtCommit } from '../git/bare-repo';
import { repoPath } from '../settings';
import { appTlsNames } from '../tls/app-tls';
import { openCliContext, table } from './cli-context';
import { redeployLive } from './config-commands';

export function registerTlsCommands(program: Command): void {
  program
    .command('tls [app]')
    .description('state of the certificates mod_md manages for apps with "tls": "auto" (valid until, renewal due, last error)')
    .option('--json', 'print JSON')
    .addHelpText('after', "\nReads mod_md's status through Apache on this machine.\n\nExamples:\n  slipway tls\n  slipway tls myapp --json")
    .action(async (app: string | undefined, opts: { json?: boolean }) => {
      const ctx = openCliContext();
      if (app !== undefined) await ctx.requireApp(app);
      const { settings } = ctx;
      const rows = await readAppCertificates(apacheSitesFromSettings(settings), settings.apacheHttpPort, app);
      if (rows.length === 0) {
        if (app !== undefined) throw new Error(`${app} does not use "tls": "auto" (or has not been deployed with it yet): see \`slipway tls:auto ${app} on\``);
        return ctx.print(opts.json ? '[]' : 'no app uses "tls": "auto"');
      }
      if (opts.json) return ctx.print(JSON.stringify(rows, null, 2));
      ctx.print(
        table(
          ['APP', 'NAMES', 'STATE'],
          rows.map((r) => [r.app, (r.certificate?.domains ?? [r.domain]).join(' '), certificateLine(r.certificate)]),
        ),
      );
    });

  program
    .command('tls:auto <app> <on|off>')
    .description('HTTPS with a certificate Apache\'s mod_md gets and renews (overrides slipway.json\'s "tls"), and redeploy')
    .addHelpText('after', "\nNeeds the app's domain (slipway.json or `slipway domains:set`), and SLIPWAY_ACME_AGREE_TOS=1.\n\nExamples:\n  slipway tls:auto myapp on\n  slipway tls:auto myapp off")
    .action(async (app: string, value: string) => {
      const ctx = openCliContext();
      await ctx.requireApp(app);
      if (value !== 'on' && value !== 'off') throw new Error(`tls:auto takes "on" or "off", got "${value}"`);
      const tls = value === 'on' ? 'auto' : 'off';
      const config = await ctx.appConfigs.read(app);
      const live = await ctx.releases.live(app);
      const appSettings = parseAppSettings(live ? await readFileAtCommit(repoPath(ctx.settings.home, app), live.sha, 'slipway.json') : undefined);
      // Refused before anything is saved: the deploy would refuse it too.
      appTlsNames(appSettings, { ...config, tls }, ctx.settings.acme);
      await ctx.appConfigs.update(app, (c) => ({ ...c, tls }));
      await ctx.audit.append({ actor: cliActor(), action: 'tls', app, outcome: 'ok', detail: `tls: ${tls}` });
      process.exitCode = await redeployLive(ctx, app, `tls: ${tls}`);
    });
}
