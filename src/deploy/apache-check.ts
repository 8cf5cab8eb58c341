import { publicDomain, type DeployContext } from './deploy-context';

/** How long a deploy gives Apache to answer after the switch (a graceful reload may be finishing). */
export const APACHE_ANSWER_WAIT_MS = 5000;
const RETRY_MS = 250;

/**
 * Throws unless Apache answers for the app (through Apache, with the app's Host) within
 * {@link APACHE_ANSWER_WAIT_MS} (or the config's wait): a deploy never reports `live` while Apache is down. The step that
 * throws is undone by the runner (the port map goes back as it was), so once Apache runs again it
 * serves the release slipway still reports as live.
 */
export async function requireApacheAnswers(ctx: DeployContext): Promise<void> {
  const waitMs = ctx.config.apacheAnswerWaitMs ?? APACHE_ANSWER_WAIT_MS;
  const settings = ctx.state.appSettings;
  if (!settings) throw new Error('internal: settings missing (step order)');
  const host = publicDomain(ctx.job.app, settings, ctx.state.appConfig);
  const deadline = Date.now() + waitMs;
  for (;;) {
    const reason = await ctx.deps.apacheAnswers(host, settings.healthcheck.path);
    if (reason === undefined) return;
    if (Date.now() >= deadline) {
      throw new Error(`${reason} for ${host} after ${(waitMs / 1000).toFixed(0)} s: the port map goes back as it was, so Apache serves the previous release once it runs again`);
    }
    await new Promise((r) => setTimeout(r, RETRY_MS));
  }
}
