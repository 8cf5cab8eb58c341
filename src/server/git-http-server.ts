import http from 'node:http';
import { promises as fs } from 'node:fs';
import { Git } from 'node-git-server';
import type { Logger } from '../logger';
import { ensureBareRepo } from '../git/bare-repo';
import { homePaths, repoPath } from '../settings';
import { parseGitRoute } from './git-route';
import { isAuthorized } from './push-token';
import type { WebHandler } from './web-handler';

export interface GitServerOptions {
  home: string;
  token: string;
  log: Logger;
  /** Serves every non-git path (the dashboard); without it those paths are 404. */
  web?: WebHandler;
}

/**
 * The git remote: our own http.Server in front of node-git-server. Authentication is checked
 * here on EVERY request (node-git-server only checks `info/refs`, so a hand-made POST to
 * git-receive-pack would otherwise push unauthenticated). Requests are rewritten to the
 * canonical `/<app>.git/...` before node-git-server sees them.
 */
export function createGitHttpServer(options: GitServerOptions): http.Server {
  const reposDir = homePaths(options.home).repos;
  const repos = new Git(reposDir, { autoCreate: false });

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      options.log.error({ err }, 'git request failed');
      if (!res.headersSent) reply(res, 500, 'internal error; see the slipway log');
      else res.destroy();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const parsed = parseGitRoute(req.method ?? 'GET', req.url ?? '/');
    const authorized = isAuthorized(req.headers.authorization, options.token);
    if (options.web && !isGitPath(req.url ?? '/')) return options.web.handle(req, res, authorized);
    if (!authorized) {
      options.log.warn({ remote: req.socket.remoteAddress, url: (req.url ?? '').slice(0, 200) }, 'authentication failed');
      res.setHeader('WWW-Authenticate', 'Basic realm="slipway"');
      return reply(res, 401, 'authentication required: use http://git:TOKEN@host:port/<app>.git');
    }
    if ('status' in parsed) return reply(res, parsed.status, parsed.message);
    const { route } = parsed;
    const dir = repoPath(options.home, route.app);
    if (!(await exists(dir))) {
      if (!route.isPush) return reply(res, 404, `no app named "${route.app}" yet: push to create it`);
      const { created } = await ensureBareRepo(dir);
      if (created) options.log.info({ app: route.app }, 'app created by push');
    }
    const query = (req.url ?? '').includes('?') ? (req.url ?? '').slice((req.url ?? '').indexOf('?')) : '';
    req.url = `/${route.app}.git/${route.action}${query}`;
    repos.handle(req, res);
  }

  // A push holds its request open while the hook follows the deploy: Node's default 5-minute
  // requestTimeout would cut a long build off mid-push. Idle sockets still time out.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 5_000;
  server.setTimeout(0);
  return server;
}

/** Git smart-HTTP paths end in one of git's endpoints; everything else belongs to the web handler. */
function isGitPath(url: string): boolean {
  return /\/(info\/refs|git-upload-pack|git-receive-pack|HEAD)(\?.*)?$/.test(url);
}

function reply(res: http.ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`${message}\n`);
}

async function exists(dir: string): Promise<boolean> {
  try {
    await fs.access(dir);
    return true;
  } catch {
    return false;
  }
}
