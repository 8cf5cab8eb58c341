import { cliActor } from '../audit/audit-log';
import type { Command } from 'commander';
import { parseEnvAssignments } from '../apps/app-config-store';
import { isHostName } from '../names';
import { webhookUrlProblem } from '../notify/webhook-sender';
import { openCliContext, type CliContext } from './cli-context';
import { enqueueAndFollow } from './enqueue-and-follow';

/** Redeploys the live image so a config change takes effect (a new release, no build). */
export async function redeployLive(ctx: CliContext, app: string, note: string): Promise<number> {
  const live = await ctx.releases.live(app);
  if (!live) {
    ctx.print('saved; it takes effect with the first deploy');
    return 0;
  }
  return enqueueAndFollow(ctx, { app, sha: live.sha, ref: live.ref, kind: 'config', note });
}

export function registerConfigCommands(program: Command): void {
  program
    .command('env:get <app> [key]')
    .description("show an app's server-side env (names only unless --reveal)")
    .option('--reveal', 'print the values too')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  slipway env:get myapp\n  slipway env:get myapp DATABASE_URL --reveal')
    .action(async (app: string, key: string | undefined, opts: { reveal?: boolean; json?: boolean }) => {
      const ctx = openCliContext();
      await ctx.requireApp(app);
      const env = (await ctx.appConfigs.read(app)).env;
      const keys = Object.keys(env)
        .filter((k) => key === undefined || k === key)
        .sort();
      if (key !== undefined && keys.length === 0) throw new Error(`${key} is not set for ${app}`);
      const shown = Object.fromEntries(keys.map((k) => [k, opts.reveal ? env[k] : '(set)']));
      if (opts.json) return ctx.print(JSON.stringify(shown, null, 2));
      for (const k of keys) ctx.print(`${k}=${shown[k]}`);
    });

  program
    .command('env:set <app> <assignments...>')
    .description('set env vars (KEY=VALUE …) outside the repo and redeploy the live image with them (no build)')
    .addHelpText('after', '\nValues never appear in logs, job data or push output.\n\nExamples:\n  slipway env:set myapp DATABASE_URL=postgres://… SECRET_KEY=…')
    .action(async (app: string, assignments: string[]) => {
      const ctx = openCliContext();
      await ctx.requireApp(app);
      const env = parseEnvAssignments(assignments);
      await ctx.appConfigs.update(app, (c) => ({ ...c, env: { ...c.env, ...env } }));
      await ctx.audit.append({ actor: cliActor(), action: 'env:set', app, outcome: 'ok', detail: Object.keys(env).join(', ') });
      process.exitCode = await redeployLive(ctx, app, `env: set ${Object.keys(env).join(', ')}`);
    });

  program
    .command('env:unset <app> <keys...>')
    .description('remove env vars and redeploy the live image without them (no build)')
    .addHelpText('after', '\nExamples:\n  slipway env:unset myapp OLD_FLAG')
    .action(async (app: string, keys: string[]) => {
      const ctx = openCliContext();
      await ctx.requireApp(app);
      await ctx.appConfigs.update(app, (c) => ({ ...c, env: Object.fromEntries(Object.entries(c.env).filter(([k]) => !keys.includes(k))) }));
      await ctx.audit.append({ actor: cliActor(), action: 'env:unset', app, outcome: 'ok', detail: keys.join(', ') });
      process.exitCode = await redeployLive(ctx, app, `env: unset ${keys.join(', ')}`);
    });

  program
    .command('domains:set <app> <domain>')
    .description("serve the app on this host name (overrides slipway.json's domain) and redeploy")
    .addHelpText('after', '\nExamples:\n  slipway domains:set myapp www.example.com')
    .action(async (app: string, domain: string) => {
      const ctx = openCliContext();
      await ctx.requireApp(app);
      const lower = domain.toLowerCase();
      if (!isHostName(lower)) throw new Error(`"${domain}" is not a host name`);
      await ctx.appConfigs.update(app, (c) => ({ ...c, domain: lower }));
      await ctx.audit.append({ actor: cliActor(), action: 'domain', app, outcome: 'ok', detail: lower });
      process.exitCode = await redeployLive(ctx, app, `domain: ${lower}`);
    });
}

export function registerWebhookCommands(program: Command): void {
  program
    .command('webhooks <app>')
    .description("list an app's webhooks")
    .option('--json', 'print JSON')
    .action(async (app: string, opts: { json?: boolean }) => {
      const ctx = openCliContext();
      await ctx.requireApp(app);
      const hooks = (await ctx.appConfigs.read(app)).webhooks ?? [];
      ctx.print(opts.json ? JSON.stringify(hooks, null, 2) : hooks.join('\n'));
    });
  program
    .command('webhooks:add <app> <url>')
    .description('POST JSON (with a Slack-compatible "text") on deploy start, success, failure and revert; retried, never blocking a deploy')
    .addHelpText('after', '\nExamples:\n  slipway webhooks:add myapp https://hooks.slack.com/services/T000/B000/XXXX')
    .action(async (app: string, url: string) => {
      const ctx = openCliContext();
      await ctx.requireApp(app);
      const problem = webhookUrlProblem(url);
      if (problem) throw new Error(problem);
      await ctx.appConfigs.update(app, (c) => ({ ...c, webhooks: [...new Set([...(c.webhooks ?? []), url])] }));
      ctx.print(`${app}: webhook added`);
    });
  program
    .command('webhooks:remove <app> <url>')
    .description('stop telling a webhook')
    .action(async (app: string, url: string) => {
      const ctx = openCliContext();
      await ctx.requireApp(app);
      await ctx.appConfigs.update(app, (c) => ({ ...c, webhooks: (c.webhooks ?? []).filter((u) => u !== url) }));
      ctx.print(`${app}: webhook removed`);
    });
}
