import type { Command } from 'commander';
import { openCliContext, table } from './cli-context';

export function registerAuditCommands(program: Command): void {
  program
    .command('audit [app]')
    .description('who did what and when, with the outcome: deploys, rollbacks, env changes (names only), run, restart, stop, start, maintenance, tokens')
    .option('--json', 'print JSON (one array, oldest first)')
    .addHelpText('after', '\nThe log is $SLIPWAY_HOME/audit.log, one JSON object per line, append-only.\n\nExamples:\n  slipway audit\n  slipway audit myapp --json')
    .action(async (app: string | undefined, opts: { json?: boolean }) => {
      const ctx = openCliContext();
      if (app !== undefined) await ctx.requireApp(app);
      const events = await ctx.audit.list(app);
      if (opts.json) return ctx.print(JSON.stringify(events, null, 2));
      ctx.print(
        table(
          ['at', 'who', 'app', 'action', 'outcome', 'detail'],
          events.map((e) => [e.at.replace('T', ' ').slice(0, 19), e.actor, e.app ?? '-', e.action, e.outcome, e.detail.slice(0, 120)]),
        ),
      );
    });
}
