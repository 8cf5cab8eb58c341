import { cliActor } from '../audit/audit-log';
import type { Command } from 'commander';
import { loadOrCreateToken } from '../auth/push-token';
import { TokenStore } from '../auth/token-store';
import { homePaths } from '../settings';
import { openCliContext, table } from './cli-context';

export function registerTokenCommands(program: Command): void {
  const tokens = program
    .command('tokens')
    .description('named push tokens: the name shows in releases; a leaked token is revoked alone')
    .addHelpText('after', '\nExamples:\n  slipway tokens add alice      # prints the token once\n  slipway tokens list\n  slipway tokens revoke alice');
  const store = async () => {
    const ctx = openCliContext();
    const paths = homePaths(ctx.settings.home);
    const { token } = await loadOrCreateToken(paths.tokenFile, ctx.settings.token);
    return { ctx, store: new TokenStore(paths.namedTokens, token) };
  };
  tokens
    .command('add <name>')
    .description('create a token; it is printed once and only its hash is kept')
    .action(async (name: string) => {
      const { ctx, store: s } = await store();
      const token = await s.add(name);
      await ctx.audit.append({ actor: cliActor(), action: 'token:add', outcome: 'ok', detail: name });
      ctx.print(`token "${name}" (shown once, keep it safe):\n\n    ${token}\n\nremote: http://${name}:${token}@<this-host>:${ctx.settings.port}/<app>.git`);
    });
  tokens
    .command('list')
    .description('list token names (the admin token is always there)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { ctx, store: s } = await store();
      const list = [{ name: 'admin', createdAt: '(SLIPWAY_TOKEN or generated)' }, ...(await s.list()).map((t) => ({ name: t.name, createdAt: t.createdAt }))];
      ctx.print(
        opts.json
          ? JSON.stringify(list, null, 2)
          : table(
              ['name', 'created'],
              list.map((t) => [t.name, t.createdAt]),
            ),
      );
    });
  tokens
    .command('revoke <name>')
    .description('revoke a named token at once')
    .action(async (name: string) => {
      const { ctx, store: s } = await store();
      await s.revoke(name);
      await ctx.audit.append({ actor: cliActor(), action: 'token:revoke', outcome: 'ok', detail: name });
      ctx.print(`token "${name}" revoked`);
    });
}
