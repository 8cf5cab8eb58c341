import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * slipway's own version, read from its package.json at load time: `dist/` and `src/` both sit one
 * level below the package root, so the same path works for the built CLI, the hook and tsx.
 * One source of truth for `slipway --version`, `doctor`, the dashboard footer and the push's
 * first line.
 */
export const SLIPWAY_VERSION: string = (JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
