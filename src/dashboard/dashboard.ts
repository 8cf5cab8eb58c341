import { formatAppHosts, runsOnSomeHost } from '../cluster/app-host-status';
import { promises as fs } from 'node:fs';
import type http from 'node:http';
import { rollbackTarget } from '../releases/rollback-target';
import { enqueueDeploy } from '../queue/deploy-queue';
import type { ReleaseRecord } from '../releases/release-store';
import type { AuthFailures } from '../auth/auth-rate-limit';
import { isAuthorized } from '../auth/push-token';
import type { WebHandler } from '../web-handler';
import type { z } from 'zod';
import { repoPath } from '../settings';
import { stateProblems } from '../state/state-files';
import { StateError } from '../state/state-format';
import { AppStatusReader, enqueuedAt, pendingDeploys } from './app-status';
import type { DashboardDeps } from './dashboard-deps';
import { CONTROL_FORM, LOGIN_FORM, LOGOUT_FORM, parseForm, ROLLBACK_FORM } from './dashboard-forms';
import { FormError, isHttps, isSameSiteRequest, newNonce, readForm, redirect, sendHtml, sendText } from './dashboard-http';
import { appPage, deployPage, loginPage, messagePage, overviewPage, type DeployPageView, type DeployState, type PageContext, type RecentDeploy } from './dashboard-pages';
import { parseDashboardRoute, safeNext, type AppAction } from './dashboard-routes';
import { setMaintenance, stopApp } from '../apps/app-control';
import { appIsRunning } from '../apps/process-status';
import { clearedSessionCookie, csrfMatches, readCookie, SESSION_COOKIE, SessionStore, sessionCookie, type Session } from './dashboard-session';
import { resumeIndex, streamDeployEvents } from './deploy-events';

/** The dashboard: a WebHandler, plus `close()` that ends open log streams (so the server can stop). */
export interface Dashboard extends WebHandler {
  close(): void;
}

/** A damaged release history reads as none (the page says why); any other error is an error. */
function noHistoryIfDamaged(err: unknown): ReleaseRecord[] {
  if (err instanceof StateError) return [];
  throw err;
}

/** How many deploys an app page lists. */
const RECENT_DEPLOYS = 20;
const RUNNING_STATES = new Set(['active', 'waiting', 'delayed', 'prioritized', 'waiting-children']);

/** One request's viewer: authorized by header, and/or by a session cookie. */
interface Viewer {
  byHeader: boolean;
  sessionId: string | undefined;
  session: Session | undefined;
}

/**
 * The web dashboard served by slipway's HTTP server (behind the same token): apps with their live
 * release, container and health; each app's release timeline with rollback; deploy logs, streamed
 * live while a deploy runs. Server-rendered HTML, a little inline script, nothing loaded from outside.
 */
export function createDashboard(deps: DashboardDeps, authFailures: AuthFailures): Dashboard {
  const sessions = new SessionStore();
  const statusReader = new AppStatusReader(deps);
  const streams = new Set<() => void>();
  let closing = false;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, authorized: boolean, client: string): Promise<void> {
    const method = req.method ?? 'GET';
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    } catch {
      return sendText(res, 400, 'bad request');
    }
    const route = parseDashboardRoute(method, url.pathname);
    const sessionId = readCookie(req.headers.cookie, SESSION_COOKIE);
    const viewer: Viewer = { byHeader: authorized, sessionId, session: sessions.get(sessionId) };
    const ctx: PageContext = { nonce: newNonce(), csrf: viewer.session?.csrf ?? '', loggedIn: authorized || viewer.session !== undefined };
    const page = (status: number, html: string, headers?: Record<string, string | string[]>) => sendHtml(req, res, status, ctx.nonce, html, headers);
    const message = (status: number, title: string, text: string) => page(status, messagePage(ctx, { title, message: text }));

    switch (route.name) {
      case 'favicon':
        res.writeHead(204, { 'Cache-Control': 'max-age=86400' });
        return void res.end();
      case 'method-not-allowed':
        return sendText(res, 405, 'method not allowed', { Allow: route.allow });
      case 'login':
        if (method === 'POST') return login(req, res, ctx, client);
        if (ctx.loggedIn) return redirect(res, safeNext(url.searchParams.get('next')));
        return page(200, loginPage(ctx, { next: safeNext(url.searchParams.get('next')) }));
      case 'logout':
        return logout(req, res, viewer);
      default:
        break;
    }

    if (!ctx.loggedIn) {
      if ((method === 'GET' || method === 'HEAD') && route.name !== 'events') {
        return redirect(res, `/login${url.pathname === '/' ? '' : `?next=${encodeURIComponent(url.pathname)}`}`);
      }
      return sendText(res, 401, 'log in first (or send the token as Authorization: Bearer …)');
    }

    switch (route.name) {
      case 'not-found':
        return message(404, 'Not found', route.message ?? `nothing at ${url.pathname.slice(0, 200)}`);
      case 'overview': {
        const [apps, pending, problems] = await Promise.all([deps.listApps(), pendingDeploys(deps.queue), stateProblems(deps.home)]);
        const statuses = await Promise.all(apps.map((app) => statusReader.read(app, pending.get(app) ?? [])));
        return page(200, overviewPage(ctx, { statuses, now: Date.now(), stateProblems: problems.map((p) => p.message) }));
      }
      case 'app':
        if (!(await appExists(route.app))) return message(404, 'Not found', `no app named "${route.app}"`);
        return page(200, await renderAppPage(ctx, route.app));
      case 'deploy': {
        if (!(await appExists(route.app))) return message(404, 'Not found', `no app named "${route.app}"`);
        const view = await deployView(route.app, route.id);
        if (!view) return message(404, 'Not found', `no deploy ${route.id}`);
        return page(200, deployPage(ctx, view));
      }
      case 'events': {
        if (closing) return sendText(res, 503, 'slipway is stopping', { 'Retry-After': '5' });
        if (!(await appExists(route.app))) return sendText(res, 404, `no app named "${route.app}"`);
        if ((await deps.queue.getJobState(route.id)) === 'unknown') return sendText(res, 404, `deploy ${route.id} is not in the queue`);
        const start = resumeIndex(req.headers['last-event-id'], url.searchParams.get('from'));
        return streamDeployEvents(deps.queue, route.id, req, res, start, {
          onStop: (stop) => {
            streams.add(stop);
            return () => streams.delete(stop);
          },
        });
      }
      case 'rollback':
        return rollback(req, res, ctx, viewer, route.app);
      case 'control':
        return control(req, res, ctx, viewer, route.app, route.action);
    }
  }

  /** The server has already refused an address over the failed-login limit (the one it shares with git) with 429. */
  async function login(req: http.IncomingMessage, res: http.ServerResponse, ctx: PageContext, client: string): Promise<void> {
    const show = (status: number, next: string, error: string) => sendHtml(req, res, status, ctx.nonce, loginPage({ ...ctx, loggedIn: false }, { next, error }));
    if (!isSameSiteRequest(req)) return show(403, '/', 'This login form was posted from another site; open the dashboard directly and log in there.');
    const form = await readFormOr(req, res, ctx);
    if (!form) return;
    let fields: z.output<typeof LOGIN_FORM>;
    try {
      fields = parseForm(LOGIN_FORM, form, 'login form');
    } catch (err) {
      return show(400, '/', (err as Error).message);
    }
    const next = safeNext(fields.next ?? null);
    const token = fields.token;
    if (token.length === 0 || !isAuthorized(`Bearer ${token}`, deps.token)) {
      authFailures.record(client, 'dashboard');
      return show(401, next, 'Wrong token.');
    }
    const { id } = sessions.create();
    return redirect(res, next, { 'Set-Cookie': sessionCookie(id, isHttps(req)) });
  }

  async function logout(req: http.IncomingMessage, res: http.ServerResponse, viewer: Viewer): Promise<void> {
    if (viewer.session) {
      const form = await readForm(req).catch(() => new URLSearchParams());
      let csrf: string | undefined;
      try {
        csrf = parseForm(LOGOUT_FORM, form, 'logout form').csrf;
      } catch {
        csrf = undefined;
      }
      if (!csrfMatches(viewer.session, csrf)) return sendText(res, 403, 'missing or wrong CSRF token: reload the page and try again');
      sessions.destroy(viewer.sessionId);
    }
    return redirect(res, '/login', { 'Set-Cookie': clearedSessionCookie() });
  }

  /** The form of a state-changing request, once its CSRF token (or same-site header auth) and app check out. */
  async function actionForm(req: http.IncomingMessage, res: http.ServerResponse, ctx: PageContext, viewer: Viewer, app: string): Promise<URLSearchParams | undefined> {
    const refuse = (status: number, text: string) => sendHtml(req, res, status, ctx.nonce, messagePage(ctx, { title: 'Refused', message: text }));
    const form = await readFormOr(req, res, ctx);
    if (!form) return undefined;
    if (viewer.session) {
      if (!csrfMatches(viewer.session, form.get('csrf'))) return void refuse(403, 'Missing or wrong CSRF token: reload the page and try again.');
    } else if (!viewer.byHeader || !isSameSiteRequest(req)) {
      return void refuse(403, 'Cross-site request refused.');
    }
    if (!(await appExists(app))) return void refuse(404, `No app named "${app}".`);
    return form;
  }

  /** Restart and start are deploys (queued, followed on the deploy page); stop and maintenance act at once. */
  async function control(req: http.IncomingMessage, res: http.ServerResponse, ctx: PageContext, viewer: Viewer, app: string, action: AppAction): Promise<void> {
    const form = await actionForm(req, res, ctx, viewer, app);
    if (!form) return;
    const refuse = async (error: string) => sendHtml(req, res, 409, ctx.nonce, await renderAppPage(ctx, app, error));
    try {
      parseForm(CONTROL_FORM, form, 'control form');
      if (action === 'stop') await stopApp(deps.control, app, 'dashboard');
      if (action === 'maintenance-on' || action === 'maintenance-off') await setMaintenance(deps.control, app, action === 'maintenance-on', 'dashboard');
      if (action === 'restart' || action === 'start') {
        const live = await deps.releases.live(app);
        if (!live) return refuse(`${app} has no live release yet`);
        // A workers-only app has no web container: any of its containers running counts. An app on
        // several hosts runs when a host that answers runs its web.
        const statuses = await deps.hosts?.(app);
        const running = statuses ? runsOnSomeHost(statuses) : appIsRunning(await deps.docker.listSlipwayContainers(), app);
        if (action === 'restart' && !running) return refuse(`${app} is not running: start it`);
        if (action === 'start' && running) return refuse(`${app} is running already`);
        const same = ((await pendingDeploys(deps.queue)).get(app) ?? []).find((p) => p.kind === action);
        if (same) return redirect(res, `/apps/${app}/deploys/${same.id}`);
        const job = await enqueueDeploy(deps.queue, {
          app,
          sha: live.sha,
          ref: live.ref,
          kind: action,
          note: `${action} of release ${live.number}`,
          pushedBy: 'dashboard',
          pushedAt: new Date().toISOString(),
        });
        return redirect(res, `/apps/${app}/deploys/${job.id as string}`);
      }
    } catch (err) {
      return refuse((err as Error).message);
    }
    return redirect(res, `/apps/${app}`);
  }

  async function rollback(req: http.IncomingMessage, res: http.ServerResponse, ctx: PageContext, viewer: Viewer, app: string): Promise<void> {
    const form = await actionForm(req, res, ctx, viewer, app);
    if (!form) return;
    let number: number | undefined;
    try {
      number = parseForm(ROLLBACK_FORM, form, 'rollback form').release;
    } catch (err) {
      return refuseRollback((err as Error).message);
    }
    let target: ReleaseRecord;
    try {
      target = rollbackTarget(await deps.releases.list(app), number);
    } catch (err) {
      return refuseRollback((err as Error).message);
    }
    // A double click must not queue the same rollback twice: go to the one already waiting or running.
    const same = ((await pendingDeploys(deps.queue)).get(app) ?? []).find((p) => p.kind === 'rollback' && p.sha === target.sha);
    if (same) return redirect(res, `/apps/${app}/deploys/${same.id}`);
    const job = await enqueueDeploy(deps.queue, {
      app,
      sha: target.sha,
      ref: target.ref,
      kind: 'rollback',
      note: `rollback to release ${target.number}`,
      pushedBy: 'dashboard',
      pushedAt: new Date().toISOString(),
    });
    return redirect(res, `/apps/${app}/deploys/${job.id as string}`);

    async function refuseRollback(error: string): Promise<void> {
      sendHtml(req, res, 409, ctx.nonce, await renderAppPage(ctx, app, `Rollback not possible: ${error}`));
    }
  }

  async function readFormOr(req: http.IncomingMessage, res: http.ServerResponse, ctx: PageContext): Promise<URLSearchParams | undefined> {
    try {
      return await readForm(req);
    } catch (err) {
      if (!(err instanceof FormError)) throw err;
      sendHtml(req, res, err.status, ctx.nonce, messagePage(ctx, { title: 'Bad request', message: err.message }));
      return undefined;
    }
  }

  async function renderAppPage(ctx: PageContext, app: string, error?: string): Promise<string> {
    const [releases, pending, ids] = await Promise.all([deps.releases.list(app).catch(noHistoryIfDamaged), pendingDeploys(deps.queue), deps.deployLogs.list(app)]);
    const appPending = pending.get(app) ?? [];
    const status = await statusReader.read(app, appPending);
    // A damaged state file is shown where the app's problems are; its history is not guessed at.
    if (status.stateProblem !== undefined) error = error === undefined ? status.stateProblem : `${error} (${status.stateProblem})`;
    let previous: { target: ReleaseRecord } | { problem: string };
    try {
      previous = { target: rollbackTarget(releases, undefined) };
    } catch (err) {
      previous = { problem: (err as Error).message };
    }
    const byDeploy = new Map(releases.map((r) => [r.deployId, r]));
    const pendingById = new Map(appPending.map((p) => [p.id, p]));
    const allIds = [...new Set([...ids, ...appPending.map((p) => p.id)])].sort((a, b) => enqueuedAt(b) - enqueuedAt(a)).slice(0, RECENT_DEPLOYS);
    const recent: RecentDeploy[] = allIds.map((id) => ({ id, at: enqueuedAt(id), release: byDeploy.get(id), pending: pendingById.get(id) }));
    // A damaged config is already named above (status.stateProblem); the page still renders.
    const config = await deps.control.appConfigs.read(app).catch((err: unknown) => {
      if (err instanceof StateError) return undefined;
      throw err;
    });
    const maintenance = config?.maintenance === true;
    const certificate = await deps.certificate(app).catch((err: Error) => `state unknown (${err.message})`);
    const hosts = await deps.hosts?.(app).then(
      (statuses) => statuses && formatAppHosts(statuses),
      (err: Error) => `state unknown (${err.message})`,
    );
    return appPage(ctx, { status, releases, previous, recent, now: Date.now(), error, maintenance, certificate, hosts });
  }

  async function deployView(app: string, id: string): Promise<DeployPageView | undefined> {
    const [state, job, releases] = await Promise.all([deps.queue.getJobState(id), deps.queue.getJob(id), deps.releases.list(app).catch(noHistoryIfDamaged)]);
    const release = releases.find((r) => r.deployId === id);
    const jobInfo = job?.data && job.data.app === app ? { ...job.data } : undefined;
    if (RUNNING_STATES.has(state)) {
      const { logs } = await deps.queue.getJobLogs(id, 0, -1, true);
      return {
        app,
        id,
        state: state === 'active' ? 'running' : 'queued',
        lines: logs,
        eventsUrl: `/apps/${app}/deploys/${id}/events?from=${logs.length}`,
        job: jobInfo,
        release,
      };
    }
    const text = await deps.deployLogs.read(app, id);
    let lines = text === undefined ? undefined : text.replace(/\n$/, '').split('\n');
    if (lines === undefined && job) lines = (await deps.queue.getJobLogs(id, 0, -1, true)).logs;
    if (lines === undefined && !release) return undefined;
    let finished: DeployState = 'gone';
    if (state === 'completed') finished = job?.returnvalue?.ok ? 'live' : job?.returnvalue?.superseded ? 'superseded' : 'failed';
    else if (state === 'failed') finished = 'failed';
    else if (release) finished = release.result === 'live' ? 'live' : 'failed';
    return { app, id, state: finished, lines: lines ?? [], job: jobInfo, release, summary: job?.returnvalue?.summary };
  }

  async function appExists(app: string): Promise<boolean> {
    return fs.access(repoPath(deps.home, app)).then(
      () => true,
      () => false,
    );
  }

  return {
    handle,
    close() {
      closing = true;
      for (const stop of [...streams]) stop();
    },
  };
}
