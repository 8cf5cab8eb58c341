import type { Migration } from '../state-format';

/**
 * Version 1 → 2 for state that was already a JSON object in release 0.1.0 (app config, runtime
 * info, deploy job data): the same fields, plus `"version": 2`.
 */
export function addVersionField(name: string): Migration {
  return {
    name,
    from: 1,
    does: 'adds `"version": 2`; every other field is kept as it was',
    migrate: (old) => (typeof old === 'object' && old !== null && !Array.isArray(old) ? { ...old, version: 2 } : old),
  };
}
