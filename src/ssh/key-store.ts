import { promises as fs } from 'node:fs';
import path from 'node:path';
import { readFileIfExists, writeFileAtomic } from '../atomic-write';
import { TOKEN_NAME_PATTERN } from '../names';
import { keyFingerprint, keyLine, parsePublicKey, slipwayKeys, withLine, withoutKey, type SlipwayKey } from './authorized-keys';
import { sshKeygenFingerprints } from './ssh-keygen';

/**
 * Named ssh keys in an authorized_keys file (see authorized-keys.ts): each runs slipway's ssh
 * entry and nothing else. Every change checks first and writes the whole file atomically, so a
 * refused change leaves it as it was.
 */
export class KeyStore {
  /**
   * @param file the authorized_keys file sshd reads
   * @param entry the shell command a key line runs (sshEntryCommand)
   */
  constructor(
    readonly file: string,
    private readonly entry: string,
  ) {}

  async list(): Promise<SlipwayKey[]> {
    return slipwayKeys((await readFileIfExists(this.file)) ?? '');
  }

  /** Adds the key in `publicKeyText` (a `.pub` file's text) as `name`; throws a plain-words error and changes nothing when it cannot. */
  async add(name: string, publicKeyText: string): Promise<SlipwayKey> {
    if (!TOKEN_NAME_PATTERN.test(name)) throw new Error(`"${name.slice(0, 40)}" is not a valid key name (a-z, 0-9, "_.-", starting with a letter, at most 40)`);
    const key = parsePublicKey(publicKeyText);
    if ('problem' in key) throw new Error(key.problem);
    const fingerprint = keyFingerprint(key.blob);
    // OpenSSH's own parser has the last word on whether this is a key.
    const checked = await sshKeygenFingerprints('-', `${key.type} ${key.blob}\n`);
    if (checked.length !== 1 || checked[0] !== fingerprint) throw new Error('not an ssh public key: ssh-keygen cannot read it');
    const text = (await readFileIfExists(this.file)) ?? '';
    const keys = slipwayKeys(text);
    if (keys.some((k) => k.name === name)) throw new Error(`a key named "${name}" exists; remove it first (slipway keys:remove ${name})`);
    const same = keys.find((k) => k.fingerprint === fingerprint);
    if (same) throw new Error(`this key is already there as "${same.name}"`);
    // A line slipway did not write may hold the key too; sshd would use whichever comes first.
    if (text !== '' && (await sshKeygenFingerprints(this.file)).includes(fingerprint)) throw new Error(`this key is already in ${this.file} (a line slipway did not write); remove it there first`);
    await this.save(withLine(text, keyLine(this.entry, name, key)));
    return { name, type: key.type, blob: key.blob, fingerprint };
  }

  async remove(name: string): Promise<void> {
    const text = (await readFileIfExists(this.file)) ?? '';
    if (!slipwayKeys(text).some((k) => k.name === name)) throw new Error(`no key named "${name}" in ${this.file}`);
    await this.save(withoutKey(text, name));
  }

  private async save(text: string): Promise<void> {
    // sshd (StrictModes) ignores a key file others can write.
    await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const mode = await fs.stat(this.file).then(
      (s) => s.mode & 0o644,
      () => 0o600,
    );
    await writeFileAtomic(this.file, text, mode);
  }
}
