import { z } from 'zod';
import type { StateFormat } from './state-format';

/**
 * `slipway-maps/hosts.map` (beside Apache's sites directory), the RewriteMap slipway's routes vhost
 * reads as `rnd:`: one line `<host> <upstream> <app>` per routed host name, where `<upstream>` is
 * one `127.0.0.1:<port>` per web replica joined by `|` (Apache picks one per request), or slipway's
 * maintenance page. Apache reads the first two columns and ignores the rest; the third says which
 * app a line belongs to. Format 1 is the first: the file is new (slipway before it routed every app
 * through a vhost of its own), so there is nothing older to migrate; where port maps moved at the
 * same time is the migration `port-maps-beside-sites`.
 */
const VERSION = 1;
export const HOST_MAP_HEADER = `# slipway host map, format ${VERSION}`;
const ROUTE = /^[^\s#]+ (127\.0\.0\.1:\d{1,5}(\|127\.0\.0\.1:\d{1,5})*|[^\s/]+:\d{1,5}\/\.slipway\/maintenance\/[a-z0-9][a-z0-9-]*) [a-z][a-z0-9-]*$/;

export const HOST_MAP_FORMAT: StateFormat = {
  kind: 'host map',
  encoding: 'text',
  version: VERSION,
  schema: z.string().refine((text) => {
    const [header, ...rest] = text.split('\n');
    return header === HOST_MAP_HEADER && rest.every((line) => line === '' || line.startsWith('#') || ROUTE.test(line));
  }, `expected "${HOST_MAP_HEADER}" and then lines "<host> <upstream> <app>"`),
  versionOf: (raw) => {
    if (typeof raw !== 'string') return Number.NaN;
    const version = /^# slipway host map, format (\d+)\n/.exec(raw)?.[1];
    return version === undefined ? Number.NaN : Number(version);
  },
  migrations: [],
};
