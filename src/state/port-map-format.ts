import { z } from 'zod';
import { portMapReplicas } from './migrations/renumber-port-map';
import type { Migration, StateFormat } from './state-format';

/**
 * `apache/<app>.map`, the RewriteMap (txt, or rnd since format 3) Apache reads the app's upstream
 * from. Format 1 (0.1.0) was the one line `upstream 127.0.0.1:<port>`; format 2 puts a version
 * line before it; format 3 lets the value list one upstream per web replica, `|`-separated (a
 * `rnd:` map picks one per request). Apache ignores lines starting with `#` in a map file.
 */
const VERSION = 3;
const HEADER = (version: number) => `# slipway port map, format ${version}`;
// Live ports on loopback (one per web replica), or (maintenance) slipway's own maintenance page for the app.
const UPSTREAM = /^upstream (127\.0\.0\.1:\d{1,5}(\|127\.0\.0\.1:\d{1,5})*|[^\s/]+:\d{1,5}\/\.slipway\/maintenance\/[a-z0-9][a-z0-9-]*)\n?$/;

const addHeader: Migration = {
  name: 'port-map-v2',
  from: 1,
  does: 'puts the line `# slipway port map, format 2` before the `upstream` line (Apache skips `#` lines)',
  migrate: (old) => (typeof old === 'string' ? `${HEADER(2)}\n${old}` : old),
};

export const PORT_MAP_FORMAT: StateFormat = {
  kind: 'port map',
  encoding: 'text',
  version: VERSION,
  schema: z.string().refine(
    (text) => {
      const [header, ...rest] = text.split(/(?<=\n)/);
      return header === `${HEADER(VERSION)}\n` && UPSTREAM.test(rest.join(''));
    },
    `expected "${HEADER(VERSION)}" and then "upstream 127.0.0.1:<port>" (ports joined by "|" for several web containers, or a maintenance page)`,
  ),
  versionOf: (raw) => {
    if (typeof raw !== 'string') return Number.NaN;
    const version = /^# slipway port map, format (\d+)\n/.exec(raw)?.[1];
    return version === undefined ? 1 : Number(version);
  },
  migrations: [addHeader, portMapReplicas],
};

/** The port map that sends `app`'s traffic to `upstream` (a port, one port per web replica, or a maintenance page), in the current format. */
export function portMapContent(upstream: number | readonly number[] | string): string {
  const value = typeof upstream === 'string' ? upstream : (typeof upstream === 'number' ? [upstream] : upstream).map((port) => `127.0.0.1:${port}`).join('|');
  return `${HEADER(VERSION)}\nupstream ${value}\n`;
}
