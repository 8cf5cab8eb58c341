import type { DeployKind } from '../queue/deploy-job';

/** What a webhook is told about. */
export type DeployEventName = 'deploy.started' | 'deploy.succeeded' | 'deploy.failed' | 'deploy.reverted';

export interface DeployEvent {
  event: DeployEventName;
  app: string;
  sha: string;
  ref: string;
  kind: DeployKind;
  pushedBy: string;
  /** The release number, once the deploy has one. */
  release?: number;
  /** The pusher's last line (✔ … / ✘ …), for finished deploys. */
  summary?: string;
  /** Where the app is served. */
  url?: string;
  at: string;
}

/**
 * The JSON body posted to a webhook: the event's fields plus `text`, so a Slack (or Mattermost,
 * Discord-compatible) incoming webhook shows a readable line as it is.
 */
export function webhookBody(event: DeployEvent): Record<string, unknown> {
  const short = event.sha.slice(0, 7);
  const what = {
    'deploy.started': `${event.app}: deploying ${short} (${event.ref.replace(/^refs\/(heads|tags)\//, '')}) by ${event.pushedBy}`,
    'deploy.succeeded': `${event.app}: ${event.summary ?? `${short} live`}`,
    'deploy.failed': `${event.app}: ${event.summary ?? `${short} failed`}`,
    'deploy.reverted': `${event.app}: ${event.summary ?? `${short} reverted`}`,
  }[event.event];
  return { ...event, text: event.url && event.event === 'deploy.succeeded' ? `${what} ${event.url}` : what };
}
