import http from 'node:http';
import type net from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { Git, type HttpDuplex } from 'node-git-server';
import type { AppConfigStore } from '../apps/app-config-store';
import type { Logger } from '../logger';
import { pathExists } from '../atomic-write';
import { freeBytes } from '../disk-full';
import { pushRoomProblem } from './push-room';
import { ensureBareRepo, listAppNames } from '../git/bare-repo';
import { ReportHoldingStream, type OutcomeSource } from '../git/held-report';
import { homePaths, repoPath } from '../settings';
import type { AuthFailures } from '../auth/auth-rate-limit';
import { enforceBodyDeadline } from './body-deadline';
import { clientAddress, isTrustedProxy } from '../client-address';
import { appNameClash } from '../names';
import { limitConnections } from './connection-limits';
import { EarlyPushStart, type StartPush } from './early-push-start';
import { parseGitRoute } from './git-route';
import type { PushRegistry } from '../push/push-registry';
import type { TokenStore } from '../auth/token-store';
import type { WebHandler } from '../web-handler';
import { maintenancePageApp, serveMaintenancePage } from '../apps/maintenance-page';

/** Request limits (issue: a push-to-deploy server must not be knocked over by one client). */
export interface ServerLimits {
  /** Largest request body (a push's pack), bytes. */
  maxBodyBytes: number;
  /** Pushes served at once; more get 503. */
  maxConcurrentPushes: number;
  /** A connection with no traffic either way for this long is closed. */
  idleTimeoutMs: number;
  /** A form's or an unauthenticated request's body must have arrived this long after the request began. */
  bodyTimeoutMs: number;
  /** Open connections in total, and from one peer address (trusted proxies exempt). */
  maxConnections: number;
  maxConnectionsPerAddress: number;
}

export interface GitServerOptions {
  home: string;
  tokens: TokenStore;
  /** Failed logins: one limit per client address, shared with the dashboard, and the fail2ban line. */
  authFailures: AuthFailures;
  /** Peers whose `X-Forwarded-For` names the client (SLIPWAY_TRUSTED_PROXIES). */
  trustedProxies: net.BlockList;
  appConfigs: AppConfigStore;
  pushes: PushRegistry;
  limits: ServerLimits;
  log: Logger;
  /** Serves every non-git path (the dashboard); without it those paths are 404. */
  web?: WebHandler;
  /** Starts an HTTP push's deploy from receive-pack's report, before its hook connects (early-push-start.ts). */
  startPush?: StartPush;
}

/**
 * The git remote: our own http.Server in front of node-git-server. Authentication is checked
 * here on EVERY request (node-git-server only checks `info/refs`, so a hand-made POST to
 * git-receive-pack would otherwise push unauthenticated). Requests are rewritten to the
 * canonical `/<app>.git/...` before node-git-server sees them.
 */
export function createGitHttpServer(options: GitServerOptions): http.Server {
  const repos = new Git(homePaths(options.home).repos, { autoCreate: false });
  const pusherOf = new WeakMap<http.IncomingMessage, string>();
  const earlyStarts = new WeakMap<http.IncomingMessage, EarlyPushStart>();
  let pushesInFlight = 0;

  // node-git-server asks listeners to accept each push and fetch, once per ref the request names
  // (a branch and a tag: twice); its git process is wired once per request. Its pid tells the push
  // handler who pushed (the hook names its parent), the early start reads its report, and a client
  // that goes away mid-way must not leave git waiting forever on a request body that will never end.
  const wired = new WeakSet<object>();
  for (const event of ['push', 'tag', 'fetch'] as const) {
    repos.on(event, (action: HttpDuplex) => {
      if (!wired.has(action)) {
        wired.add(action);
        const pusher = pusherOf.get(action.req);
        const early = earlyStarts.get(action.req);
        action.once('service', (ps: ChildProcess) => {
          const pid = ps.pid;
          if (pid === undefined) return;
          if (pusher !== undefined) {
            early?.attach(ps);
            options.pushes.register(pid, pusher, early?.started);
            // The response ends after receive-pack exits, and the held report is read then.
            action.res.once('close', () => options.pushes.unregister(pid));
            holdReport(ps, () => Promise.resolve(options.pushes.rejectionsOf(pid)));
          }
          action.res.once('close', () => {
            // An unfinished pack is never applied: receive-pack updates refs only after the whole pack checks out.
            if (!action.res.writableFinished && ps.exitCode === null) ps.kill('SIGTERM');
          });
        });
      }
      action.accept();
    });
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      // A client that hangs up (or is cut off by the body deadline) mid-request is routine, not an error.
      if (req.socket.destroyed) options.log.debug({ err: err.message, url: (req.url ?? '').slice(0, 200) }, 'client went away');
      else options.log.error({ err }, 'request failed');
      if (!res.headersSent) reply(res, 500, 'internal error; see the slipway log');
      else res.destroy();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // Apache proxies the visitors of an app in maintenance here: no credentials, nothing to throttle.
    const maintenanceApp = maintenancePageApp(req.url ?? '/');
    if (maintenanceApp !== undefined) return serveMaintenancePage(options.home, maintenanceApp, req, res);
    const address = clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], options.trustedProxies);
    // Until the token is known to be good, the body has a short deadline (a trickling anonymous
    // body must not hold a connection); a push with a token may take as long as its pack needs.
    const liftDeadline = enforceBodyDeadline(req, options.limits.bodyTimeoutMs, () =>
      options.log.debug({ remote: address, url: (req.url ?? '').slice(0, 200) }, 'request body too slow: connection closed (SLIPWAY_BODY_TIMEOUT)'),
    );
    const retryAfter = options.authFailures.retryAfterSeconds(address);
    if (retryAfter > 0) {
      res.setHeader('Retry-After', String(retryAfter));
      return reply(res, 429, `too many failed logins from ${address}; retry in ${retryAfter} s`);
    }
    const header = req.headers.authorization;
    const who = await options.tokens.authenticate(header);
    if (header !== undefined && who === undefined) options.authFailures.record(address, 'git');
    if (options.web && !isGitPath(req.url ?? '/')) return options.web.handle(req, res, who !== undefined, address);
    if (who !== undefined) liftDeadline();

    const parsed = parseGitRoute(req.method ?? 'GET', req.url ?? '/');
    if ('status' in parsed) {
      if (who === undefined) return challenge(res);
      return reply(res, parsed.status, parsed.message);
    }
    const { route } = parsed;
    if (who === undefined && (route.isPush || !(await options.appConfigs.read(route.app)).publicFetch)) return challenge(res);

    if (route.isPush) {
      // Checked before git (or a new repo) writes anything: a full disk refuses the push in plain words.
      const noRoom = pushRoomProblem(await freeBytes(options.home), Number(req.headers['content-length'] ?? 0), options.home);
      if (noRoom !== undefined) return reply(res, 507, noRoom);
    }
    const dir = repoPath(options.home, route.app);
    if (!(await pathExists(dir))) {
      if (!route.isPush) return reply(res, 404, `no app named "${route.app}" yet: push to create it`);
      const clash = appNameClash(route.app, await listAppNames(homePaths(options.home).repos));
      if (clash !== undefined) return reply(res, 400, clash);
      const { created } = await ensureBareRepo(dir);
      if (created) options.log.info({ app: route.app, by: who }, 'app created by push');
    }
    if (!enforceBodyLimit(req, res, options.limits.maxBodyBytes)) return;
    if (route.action === 'git-receive-pack') {
      if (pushesInFlight >= options.limits.maxConcurrentPushes) {
        res.setHeader('Retry-After', '10');
        return reply(res, 503, `too many pushes at once (${options.limits.maxConcurrentPushes}); retry shortly`);
      }
      pushesInFlight++;
      res.once('close', () => pushesInFlight--);
      pusherOf.set(req, who ?? 'unknown');
    }
    const query = (req.url ?? '').includes('?') ? (req.url ?? '').slice((req.url ?? '').indexOf('?')) : '';
    req.url = `/${route.app}.git/${route.action}${query}`;
    const onError = (err: Error) => options.log.debug({ err: err.message, remote: address }, 'git client went away');
    containErrors(req, onError);
    containErrors(res, onError);
    // Reads along from the first byte: created right before node-git-server takes the request.
    if (route.action === 'git-receive-pack' && options.startPush) {
      earlyStarts.set(req, new EarlyPushStart(req, route.app, who ?? 'unknown', options.startPush, options.log));
    }
    repos.handle(req, res);
  }

  // A push holds its request open while the hook follows the deploy, so there is no overall
  // request deadline (Node's default 5 minutes would cut a long build off mid-push); a silent
  // connection is closed after the idle timeout, and the hook prints a line at least every minute.
  server.requestTimeout = 0;
  server.headersTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  server.setTimeout(options.limits.idleTimeoutMs, (socket) => socket.destroy());
  limitConnections(
    server,
    {
      max: options.limits.maxConnections,
      perAddress: options.limits.maxConnectionsPerAddress,
      exempt: (peer) => isTrustedProxy(peer, options.trustedProxies),
    },
    options.log,
  );
  return server;
}

/**
 * Holds receive-pack's report-status back until the push's deploy has ended (see
 * git/held-report.ts). node-git-server pipes `ps.stdout` into the response right after its
 * 'service' event, so the filtered stream put in its place is what the pusher gets.
 */
function holdReport(ps: ChildProcess, rejections: OutcomeSource): void {
  if (!ps.stdout) return;
  ps.stdout = ps.stdout.pipe(new ReportHoldingStream({ advertisement: false }, rejections));
}

/**
 * Refuses bodies over the limit: by Content-Length at once, or, for chunked pushes, by watching
 * the bytes read. Cutting a push short is safe: git-receive-pack updates no ref for an
 * incomplete pack.
 */
function enforceBodyLimit(req: http.IncomingMessage, res: http.ServerResponse, maxBytes: number): boolean {
  if (Number(req.headers['content-length'] ?? 0) > maxBytes) {
    reply(res, 413, `push too large (limit ${maxBytes} bytes, SLIPWAY_MAX_PUSH_BYTES)`);
    return false;
  }
  const startBytes = req.socket.bytesRead;
  const timer = setInterval(() => {
    if (req.socket.bytesRead - startBytes > maxBytes) {
      clearInterval(timer);
      req.socket.destroy();
    }
  }, 200);
  res.once('close', () => clearInterval(timer));
  return true;
}

/**
 * node-git-server re-emits the request's and response's 'error' events on its own objects, which
 * have no error listener: a client disconnecting mid-push ('aborted') would crash the whole
 * server. Errors of these two streams stop here; 'close' still reaches everyone.
 */
function containErrors(stream: NodeJS.EventEmitter, onError: (err: Error) => void): void {
  const emit = stream.emit.bind(stream);
  stream.emit = ((event: string | symbol, ...args: unknown[]) => {
    if (event === 'error') {
      onError(args[0] as Error);
      return true;
    }
    return emit(event, ...args);
  }) as typeof stream.emit;
}

/** Git smart-HTTP paths end in one of git's endpoints; everything else belongs to the web handler. */
function isGitPath(url: string): boolean {
  return /\/(info\/refs|git-upload-pack|git-receive-pack|HEAD)(\?.*)?$/.test(url);
}

function challenge(res: http.ServerResponse): void {
  res.setHeader('WWW-Authenticate', 'Basic realm="slipway"');
  reply(res, 401, 'authentication required: use http://git:TOKEN@host:port/<app>.git');
}

function reply(res: http.ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`${message}\n`);
}
