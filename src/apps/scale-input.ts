import { PROCESS_TYPE } from './app-config-store';

/** Thrown for bad `ps:scale` input; nothing has changed when it is thrown. */
export class ScaleInputError extends Error {}

/**
 * Parses `ps:scale` arguments (`web=3 worker=2`) against the process types of the live release's
 * Procfile (`processTypes`: web unless it is a workers-only app) and the operator's limit. Throws a ScaleInputError naming the
 * first bad argument: not `type=count`, an unknown type, a count that is not a whole number from 0
 * to `max` (web: from 1), or a type named twice.
 */
export function parseScaleArgs(args: string[], knownTypes: Iterable<string>, max: number): Record<string, number> {
  if (args.length === 0) throw new ScaleInputError('say which types to scale, e.g. `web=2 worker=3`');
  const known = new Set(knownTypes);
  const scale: Record<string, number> = {};
  for (const arg of args) {
    const shown = JSON.stringify(arg.slice(0, 60));
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new ScaleInputError(`${shown} is not type=count (e.g. worker=2)`);
    const type = arg.slice(0, eq);
    const count = arg.slice(eq + 1);
    if (!PROCESS_TYPE.test(type)) throw new ScaleInputError(`${shown}: "${type.slice(0, 40)}" is not a process type name`);
    if (!known.has(type)) throw new ScaleInputError(`${shown}: the live release's Procfile has no "${type}" process type (it has: ${[...known].sort().join(', ')})`);
    if (!/^\d+$/.test(count)) throw new ScaleInputError(`${shown}: the count must be a whole number from 0 to ${max}`);
    const n = Number(count);
    if (n > max) throw new ScaleInputError(`${shown}: at most ${max} containers of a type (SLIPWAY_MAX_SCALE)`);
    // Apache routes to web containers: with none it has nowhere to send requests. Taking an app
    // offline is `slipway stop` (the maintenance page, then the containers stop).
    if (type === 'web' && n === 0) throw new ScaleInputError(`${shown}: an app runs at least one web container; \`slipway stop <app>\` takes it offline`);
    if (type in scale) throw new ScaleInputError(`${shown}: "${type}" is named twice`);
    scale[type] = n;
  }
  return scale;
}
