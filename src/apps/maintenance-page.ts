import http from 'node:http';
import path from 'node:path';
import { readFileIfExists } from '../atomic-write';
import { appNameProblem } from '../names';
import { homePaths } from '../settings';

/** Seconds a browser or a crawler is told to wait before asking again. */
const RETRY_AFTER_SECONDS = 60;

const BUILT_IN_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Down for maintenance</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 36em; margin: 4em auto; padding: 0 1em">
<h1>Down for maintenance</h1>
<p>This site is being worked on and will be back shortly. Please try again in a few minutes.</p>
</body></html>
`;

/**
 * The app a request for a maintenance page names (`/.slipway/maintenance/<app>/<anything>`: Apache
 * proxies every path of an app in maintenance there), or undefined when the path is not one.
 */
export function maintenancePageApp(url: string): string | undefined {
  const match = /^\/\.slipway\/maintenance\/([^/?]+)(?:[/?]|$)/.exec(url);
  if (!match || appNameProblem(match[1])) return undefined;
  return match[1];
}

/**
 * Answers an app's maintenance page: 503 with Retry-After, no caching. The operator may replace
 * it: `$SLIPWAY_HOME/maintenance/<app>.html`, else `$SLIPWAY_HOME/maintenance/default.html`, else
 * a built-in page. Served to anyone (it is what visitors of the site see); it reveals nothing.
 */
export async function serveMaintenancePage(home: string, app: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const dir = homePaths(home).maintenancePages;
  const page = (await readFileIfExists(path.join(dir, `${app}.html`))) ?? (await readFileIfExists(path.join(dir, 'default.html'))) ?? BUILT_IN_PAGE;
  res.writeHead(503, {
    'Content-Type': 'text/html; charset=utf-8',
    'Retry-After': String(RETRY_AFTER_SECONDS),
    'Cache-Control': 'no-store',
    'Content-Length': Buffer.byteLength(page),
  });
  res.end(req.method === 'HEAD' ? undefined : page);
}

/**
 * Answers maintenance pages, and nothing else, on `address:port` (`slipway agent`: the host's
 * Apache proxies an app in maintenance there, as the server's Apache proxies to slipway's own HTTP
 * server). Resolves once it listens; a port in use is a plain error naming SLIPWAY_PORT.
 */
export async function serveMaintenancePages(home: string, address: string, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const app = maintenancePageApp(req.url ?? '/');
    if (app === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    serveMaintenancePage(home, app, req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          err.code === 'EADDRINUSE' ? `${address}:${port} is in use: this host's maintenance pages need it (set SLIPWAY_PORT to a free port)` : `cannot listen on ${address}:${port}: ${err.message}`,
        ),
      ),
    );
    server.listen(port, address, resolve);
  });
  return server;
}
