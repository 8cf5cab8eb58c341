import http from 'node:http';

/**
 * Asks Apache (on loopback, `port`) for `path` as the app's visitors would, with their `Host`:
 * resolves undefined when Apache gives any HTTP answer, or the reason it gave none ("Apache is not
 * answering on :8080 (connect ECONNREFUSED 127.0.0.1:8080)"). The status is not judged here: the
 * app's health was checked on its own port; this is about Apache being there to route to it.
 */
export function apacheAnswers(port: number, host: string, path: string, timeoutMs = 2000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers: { host, 'user-agent': 'slipway-switch-check' }, timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      resolve(undefined);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve(`Apache is not answering on :${port} (${err.message})`));
  });
}
