import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { readFileIfExists, writeFileAtomic } from '../atomic-write';
import { TOKEN_NAME_PATTERN } from '../names';
import { hashesEqual, hashToken, presentedSecret } from './push-token';

/** A named push token as stored: only its sha256, never the token itself. */
export interface StoredToken {
  name: string;
  sha256: string;
  createdAt: string;
}

/**
 * Push tokens: the admin token (SLIPWAY_TOKEN or the generated one, named "admin") and named
 * tokens added with `slipway tokens add`, so a pusher's name appears in releases and a leaked
 * token can be revoked without changing everyone's remote. Read on every check, so a revoke
 * takes effect at once.
 */
export class TokenStore {
  constructor(
    private readonly file: string,
    private readonly adminToken: string,
  ) {}

  /** The name of the token the header presents, or undefined. Every stored hash is compared. */
  async authenticate(header: string | undefined): Promise<string | undefined> {
    const secret = presentedSecret(header);
    if (secret === undefined) return undefined;
    const presented = hashToken(secret);
    let match: string | undefined = hashesEqual(presented, hashToken(this.adminToken)) ? 'admin' : undefined;
    for (const token of await this.list()) {
      if (hashesEqual(presented, Buffer.from(token.sha256, 'hex')) && match === undefined) match = token.name;
    }
    return match;
  }

  async list(): Promise<StoredToken[]> {
    const text = await readFileIfExists(this.file);
    return text === undefined ? [] : (JSON.parse(text) as StoredToken[]);
  }

  /** Creates a named token and returns it; it is shown once and only its hash is kept. */
  async add(name: string): Promise<string> {
    if (!TOKEN_NAME_PATTERN.test(name) || name === 'admin') throw new Error(`"${name.slice(0, 40)}" is not a valid token name (a-z, 0-9, "_.-", starting with a letter; not "admin")`);
    const tokens = await this.list();
    if (tokens.some((t) => t.name === name)) throw new Error(`a token named "${name}" exists; revoke it first`);
    const token = randomBytes(24).toString('base64url');
    await this.save([...tokens, { name, sha256: hashToken(token).toString('hex'), createdAt: new Date().toISOString() }]);
    return token;
  }

  async revoke(name: string): Promise<void> {
    const tokens = await this.list();
    if (!tokens.some((t) => t.name === name)) throw new Error(`no token named "${name}"`);
    await this.save(tokens.filter((t) => t.name !== name));
  }

  private async save(tokens: StoredToken[]): Promise<void> {
    await writeFileAtomic(this.file, `${JSON.stringify(tokens, null, 1)}\n`, 0o600);
    await fs.chmod(this.file, 0o600);
  }
}
