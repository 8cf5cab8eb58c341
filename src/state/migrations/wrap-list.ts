import type { Migration } from '../state-format';

/**
 * Version 1 → 2 for state that release 0.1.0 kept as a bare JSON array (release history, named
 * tokens): the array moves, unchanged, under `key` of an object that carries `"version": 2`.
 */
export function wrapList(name: string, key: string): Migration {
  return {
    name,
    from: 1,
    does: `moves the list, unchanged, into \`{"version": 2, "${key}": [...]}\``,
    migrate: (old) => (Array.isArray(old) ? { version: 2, [key]: old } : old),
  };
}
