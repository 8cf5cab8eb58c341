/**
 * Validation of the names users control: app names (they become directory names, container names
 * and image tags) and git ref names (they decide what deploys).
 */

/** App names: lowercase, start with a letter, at most 40 characters. Safe as a path, tag and container name. */
export const APP_NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;

/** Returns a plain-words reason when `name` is not a valid app name, or undefined when it is. */
export function appNameProblem(name: string): string | undefined {
  if (APP_NAME_PATTERN.test(name)) return undefined;
  const shown = name.length > 60 ? `${name.slice(0, 60)}…` : name;
  return `"${shown}" is not a valid app name: use 1-40 characters a-z, 0-9 and "-", starting with a letter`;
}

/**
 * What slipway appends to an app's name to name its containers: web replicas (`-web-2`), pending
 * ones (`-pending`, `-pending-2`), workers (`-worker-1`, `-worker-1-next`), the release command
 * (`-release`) and one-off runs (`-run-3f2a1c`). Docker container names are unique per Engine.
 */
const CONTAINER_SUFFIX = /^(pending(-\d+)?|release|run-[0-9a-f]{6}|[a-z0-9_-]+-\d+(-next)?)$/;

/**
 * Returns a plain-words reason when a NEW app called `name` would share container names with one
 * of `apps` (the apps there are): `shop-web-2` beside `shop` would take the name of shop's second
 * web replica, and the later of the two containers could never start. Checked only when an app is
 * created; apps that exist keep working whatever their names.
 */
export function appNameClash(name: string, apps: string[]): string | undefined {
  for (const other of apps) {
    if (other === name) continue;
    const [longer, shorter] = name.length > other.length ? [name, other] : [other, name];
    if (!longer.startsWith(`${shorter}-`) || !CONTAINER_SUFFIX.test(longer.slice(shorter.length + 1))) continue;
    const why = longer === name ? `it is a container name of the app "${other}"` : `the app "${other}" has the name one of its containers would get`;
    return `"${name}" cannot be created: ${why} (slipway names an app's containers <app>-web-2, <app>-worker-1, <app>-pending, <app>-release …); choose another name`;
  }
  return undefined;
}

/** Names of push tokens and ssh keys (they appear in releases as the pusher): a-z, 0-9, "_.-", starting with a letter. */
export const TOKEN_NAME_PATTERN = /^[a-z][a-z0-9_.-]{0,39}$/;

/** A full 40-character lowercase hex object name, as git prints it. */
export const SHA_PATTERN = /^[0-9a-f]{40}$/;

/** True when `sha` is git's all-zero object name (a created or deleted ref). */
export function isZeroSha(sha: string): boolean {
  return /^0{40}$/.test(sha);
}

/**
 * A strict subset of `git check-ref-format`: printable ASCII without the characters git forbids,
 * no `..`, no `@{`, no component starting with `.` or ending with `.lock`, at most 255 bytes.
 * Refs arriving from git itself already pass git's check; this guards the names we act on.
 */
export function isValidRefName(ref: string): boolean {
  if (ref.length === 0 || ref.length > 255) return false;
  if (!ref.startsWith('refs/')) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(ref)) return false;
  if (ref.includes('..') || ref.includes('@{') || ref.includes('//')) return false;
  if (ref.endsWith('/') || ref.endsWith('.')) return false;
  return ref.split('/').every((part) => part.length > 0 && !part.startsWith('.') && !part.endsWith('.lock'));
}

/** The short form of a sha shown to people. */
export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9*]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** True for a lowercase DNS host name (a leading `*.` wildcard allowed), as Apache's ServerName takes it. */
export function isHostName(name: string): boolean {
  return HOST_NAME.test(name);
}
