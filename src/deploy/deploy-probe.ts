import http from 'node:http';
import https from 'node:https';
import { summarizeProbe, type ProbeReport, type ProbeSample } from './probe-stats';

/** A probe sending requests on a fixed schedule until stopped. */
export interface RunningProbe {
  stop(): Promise<ProbeReport>;
}

/**
 * Sends a light, fixed-rate request stream (default 20/s, keep-alive, like real visitors)
 * through Apache to the app's public route while a deploy runs. A request counts as failed on a
 * network error, a timeout or a 5xx (what a visitor would see as the site being down).
 *
 * With `tls` (a `tls: auto` app, whose HTTP vhost only redirects) it goes over HTTPS with the
 * domain as SNI name, and does not verify the certificate: it connects to 127.0.0.1 and measures
 * whether the app answers, and before mod_md's first certificate is in service Apache serves a
 * temporary self-signed one (`slipway tls` reports on the certificate instead).
 */
export function startProbe(target: { port: number; host: string; path: string; tls?: boolean }, intervalMs = 50): RunningProbe {
  const agent = target.tls ? new https.Agent({ keepAlive: true, maxSockets: 8, servername: target.host, rejectUnauthorized: false }) : new http.Agent({ keepAlive: true, maxSockets: 8 });
  const get = target.tls ? https.get : http.get;
  const samples: ProbeSample[] = [];
  const inFlight = new Set<Promise<void>>();
  const fire = () => {
    const startedAt = performance.now();
    const done = new Promise<void>((resolve) => {
      const finish = (ok: boolean) => {
        samples.push({ startedAt, endedAt: performance.now(), ok });
        resolve();
      };
      const req = get({ host: '127.0.0.1', port: target.port, path: target.path, headers: { host: target.host, 'user-agent': 'slipway-probe' }, agent, timeout: 10_000 }, (res) => {
        res.resume();
        res.on('end', () => finish((res.statusCode ?? 500) < 500));
        res.on('error', () => finish(false));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => finish(false));
    });
    inFlight.add(done);
    void done.then(() => inFlight.delete(done));
  };
  fire();
  const timer = setInterval(fire, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(inFlight);
      agent.destroy();
      return summarizeProbe(samples);
    },
  };
}
