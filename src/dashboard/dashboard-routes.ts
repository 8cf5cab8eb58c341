import { appNameProblem } from '../names';

/** A dashboard request, parsed from method and path; the app name is already validated. */
export type DashboardRoute =
  | { name: 'login' | 'logout' | 'overview' | 'favicon' }
  | { name: 'app'; app: string }
  | { name: 'rollback'; app: string }
  | { name: 'control'; app: string; action: AppAction }
  | { name: 'deploy' | 'events'; app: string; id: string }
  | { name: 'not-found'; message?: string }
  | { name: 'method-not-allowed'; allow: string };

/** What the app page's control buttons ask for. */
export type AppAction = 'restart' | 'stop' | 'start' | 'maintenance-on' | 'maintenance-off';
const APP_ACTIONS = new Set<string>(['restart', 'stop', 'start', 'maintenance-on', 'maintenance-off']);

/** True when `id` is a deploy id of `app` (`deploy-<app>-<12 hex>-<ms>`); `app` must be valid. */
export function isDeployIdOf(app: string, id: string): boolean {
  return new RegExp(`^deploy-${app}-[0-9a-f]{12}-\\d{1,16}$`).test(id);
}

/** Maps a request to a route. Paths are matched exactly (no trailing-slash variants). */
export function parseDashboardRoute(method: string, pathname: string): DashboardRoute {
  const get = (route: DashboardRoute): DashboardRoute => (method === 'GET' || method === 'HEAD' ? route : { name: 'method-not-allowed', allow: 'GET, HEAD' });
  const post = (route: DashboardRoute): DashboardRoute => (method === 'POST' ? route : { name: 'method-not-allowed', allow: 'POST' });

  if (pathname === '/') return get({ name: 'overview' });
  if (pathname === '/favicon.ico') return get({ name: 'favicon' });
  if (pathname === '/login') return method === 'GET' || method === 'HEAD' || method === 'POST' ? { name: 'login' } : { name: 'method-not-allowed', allow: 'GET, HEAD, POST' };
  if (pathname === '/logout') return post({ name: 'logout' });

  const match = /^\/apps\/([^/]+)(?:\/(rollback|restart|stop|start|maintenance-on|maintenance-off|deploys\/([^/]+)(\/events)?))?$/.exec(pathname);
  if (!match) return { name: 'not-found' };
  const app = match[1];
  // The raw segment must itself be a valid name: `%61pp` is not an app, whatever it decodes to.
  if (appNameProblem(app)) return { name: 'not-found', message: appNameProblem(safeDecode(app)) ?? `no app named "${safeDecode(app)}"` };
  if (match[2] === undefined) return get({ name: 'app', app });
  if (match[2] === 'rollback') return post({ name: 'rollback', app });
  if (APP_ACTIONS.has(match[2])) return post({ name: 'control', app, action: match[2] as AppAction });
  const id = match[3];
  if (!isDeployIdOf(app, id)) return { name: 'not-found', message: `"${safeDecode(id).slice(0, 80)}" is not a deploy of ${app}` };
  if (match[4]) return method === 'GET' ? { name: 'events', app, id } : { name: 'method-not-allowed', allow: 'GET' };
  return get({ name: 'deploy', app, id });
}

/** A local path safe to redirect to after login (`/…`, not `//host` or `/\host`), else "/". */
export function safeNext(next: string | null | undefined): string {
  if (!next || next.length > 500 || !/^\/(?![/\\])[\x21-\x7e]*$/.test(next)) return '/';
  return next;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
