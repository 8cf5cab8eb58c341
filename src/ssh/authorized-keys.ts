/**
 * The authorized_keys lines slipway writes, one per named key:
 *
 *     command="<entry> <name>",restrict <type> <base64 key> slipway:<name>
 *
 * `restrict` turns off every forwarding, the pty and ~/.ssh/rc; `command=` runs slipway's ssh
 * entry whatever the client asks for. Lines slipway did not write are kept byte for byte.
 */
import { createHash } from 'node:crypto';
import { TOKEN_NAME_PATTERN } from '../names';

/** A named key as an authorized_keys line of slipway's carries it. */
export interface SlipwayKey {
  name: string;
  type: string;
  /** The key itself, base64 as in a `.pub` file. */
  blob: string;
  /** `SHA256:…`, as `ssh-keygen -l` prints it. */
  fingerprint: string;
}

const KEY_TYPE = /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const SLIPWAY_LINE = /^command="[^"\\]*",restrict (\S+) (\S+) slipway:(\S+)$/;

/** The key in a `.pub` file's text, or a reason it is none. A private key is refused, not converted. */
export function parsePublicKey(text: string): { type: string; blob: string } | { problem: string } {
  if (/PRIVATE KEY/.test(text)) return { problem: 'that is a private key; give the public one (the .pub file)' };
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length !== 1) return { problem: `expected one public key line, found ${lines.length}` };
  const [type, blob] = lines[0].split(/\s+/);
  if (!KEY_TYPE.test(type ?? '') || !BASE64.test(blob ?? '')) return { problem: 'not an ssh public key (expected "<type> <base64> [comment]", as in ~/.ssh/id_ed25519.pub)' };
  return { type, blob };
}

/** The `SHA256:` fingerprint of a key, as ssh-keygen computes it. */
export function keyFingerprint(blob: string): string {
  return `SHA256:${createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64').replace(/=+$/, '')}`;
}

/** slipway's keys in an authorized_keys file's text, in order. */
export function slipwayKeys(text: string): SlipwayKey[] {
  return text.split('\n').flatMap((line) => {
    const match = SLIPWAY_LINE.exec(line);
    if (!match || !TOKEN_NAME_PATTERN.test(match[3])) return [];
    return [{ name: match[3], type: match[1], blob: match[2], fingerprint: keyFingerprint(match[2]) }];
  });
}

/** The line for key `name`; `entry` is the shell command that runs slipway's ssh entry. */
export function keyLine(entry: string, name: string, key: { type: string; blob: string }): string {
  if (/["\\\n]/.test(entry)) throw new Error('the ssh entry command cannot contain ", \\ or a line break');
  return `command="${entry} ${name}",restrict ${key.type} ${key.blob} slipway:${name}`;
}

/** `text` plus one line, with a newline between them when the file did not end with one. */
export function withLine(text: string, line: string): string {
  return `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${line}\n`;
}

/** `text` without slipway's line for `name`; every other byte stays. */
export function withoutKey(text: string, name: string): string {
  const lines = text.split('\n');
  return lines.filter((line) => SLIPWAY_LINE.exec(line)?.[3] !== name).join('\n');
}

/**
 * The shell command a key line runs (sshd runs it with the user's shell): slipway's ssh entry
 * under `node`, told the slipway home. Paths with characters a shell would read are refused.
 */
export function sshEntryCommand(home: string, node: string, entryScript: string): string {
  for (const p of [home, node, entryScript]) {
    if (!/^\/[A-Za-z0-9_./@+-]*$/.test(p)) throw new Error(`cannot write ${JSON.stringify(p)} into an authorized_keys command: use a path of letters, digits and "_./@+-"`);
  }
  return `SLIPWAY_HOME=${home} exec ${node} ${entryScript}`;
}
