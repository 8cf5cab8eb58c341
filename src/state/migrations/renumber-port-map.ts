import type { Migration } from '../state-format';

/**
 * Port map format 2 → 3: the same `upstream` line (one port is still one `127.0.0.1:<port>`),
 * under the header `# slipway port map, format 3`. Format 3 lets the value name several web
 * replicas (`127.0.0.1:8081|127.0.0.1:8082`), which a slipway that reads only format 2 must
 * refuse rather than route as one host name.
 */
export const portMapReplicas: Migration = {
  name: 'port-map-v3',
  from: 2,
  does: 'renumbers the header line to `# slipway port map, format 3`; the `upstream` line is kept as it was',
  migrate: (old) => (typeof old === 'string' ? old.replace(/^# slipway port map, format 2\n/, '# slipway port map, format 3\n') : old),
};
