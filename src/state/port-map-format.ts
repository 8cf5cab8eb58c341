import { z } from 'zod';
import type { Migration, StateFormat } from './state-format';

/**
 * `apache/<app>.map`, the RewriteMap (txt) Apache reads the app's upstream from. Format 1 (0.1.0)
 * was the one line `upstream 127.0.0.1:<port>`; format 2 puts a version line before it. Apache
 * ignores lines starting with `#` in a txt map, so both route the same.
 */
const HEADER = (version: number) => `# slipway port map, format ${version}`;
// A live port on loopback, or (maintenance) slipway's own maintenance page for the app.
const UPSTREAM = /^upstream (127\.0\.0\.1:\d{1,5}|[^\s/]+:\d{1,5}\/\.slipway\/maintenance\/[a-z0-9][a-z0-9-]*)\n?$/;

const addHeader: Migration = {
  name: 'port-map-v2',
  from: 1,
  does: 'puts the line `# slipway port map, format 2` before the `upstream` line (Apache skips `#` lines)',
  migrate: (old) => (typeof old === 'string' ? `${HEADER(2)}\n${old}` : old),
};

export const PORT_MAP_FORMAT: StateFormat = {
  kind: 'port map',
  encoding: 'text',
  version: 2,
  schema: z.string().refine(
    (text) => {
      const [header, ...rest] = text.split(/(?<=\n)/);
      return header === `${HEADER(2)}\n` && UPSTREAM.test(rest.join(''));
    },
    `expected "${HEADER(2)}" and then "upstream 127.0.0.1:<port>" (or a maintenance page)`,
  ),
  versionOf: (raw) => {
    if (typeof raw !== 'string') return Number.NaN;
    const version = /^# slipway port map, format (\d+)\n/.exec(raw)?.[1];
    return version === undefined ? 1 : Number(version);
  },
  migrations: [addHeader],
};

/** The port map that sends `app`'s traffic to `port`, in the current format. */
export function portMapContent(upstream: number | string): string {
  return `${HEADER(2)}\nupstream ${typeof upstream === 'number' ? `127.0.0.1:${upstream}` : upstream}\n`;
}
