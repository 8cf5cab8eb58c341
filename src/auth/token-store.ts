import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { strictFields } from '../parse-input';
import { readStateFile, writeStateFile } from '../state/state-file';
import { StateError, versionedListFormat } from '../state/state-format';
import { hashesEqual, hashToken, presentedSecret } from './push-token';

import { TOKEN_NAME_PATTERN as TOKEN_NAME } from '../names';

/** A named push token as stored: only its sha256, never the token itself. */
const STORED_TOKEN_SCHEMA = strictFields({
  name: z.string().regex(TOKEN_NAME, 'expected a token name'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 in hex'),
  createdAt: z.string(),
});

export type StoredToken = z.output<typeof STORED_TOKEN_SCHEMA>;

const TOKEN_LIST_SCHEMA = strictFields({ version: z.literal(2), tokens: z.array(STORED_TOKEN_SCHEMA) });

/** `tokens.json`: format 1 (0.1.0) was the bare array of tokens. */
export const TOKEN_LIST_FORMAT = versionedListFormat('token list', 'tokens', TOKEN_LIST_SCHEMA, 'token-list-v2');

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
    // A damaged token list must not lock the admin out too: only the named tokens stop working
    // (the file is named in the log, `slipway doctor` and the dashboard).
    const named = await this.list().catch((err: unknown) => {
      if (err instanceof StateError) return [];
      throw err;
    });
    for (const token of named) {
      if (hashesEqual(presented, Buffer.from(token.sha256, 'hex')) && match === undefined) match = token.name;
    }
    return match;
  }

  async list(): Promise<StoredToken[]> {
    return (await readStateFile(TOKEN_LIST_FORMAT, this.file))?.tokens ?? [];
  }

  /** Creates a named token and returns it; it is shown once and only its hash is kept. */
  async add(name: string): Promise<string> {
    if (!TOKEN_NAME.test(name) || name === 'admin') throw new Error(`"${name.slice(0, 40)}" is not a valid token name (a-z, 0-9, "_.-", starting with a letter; not "admin")`);
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
    await writeStateFile(TOKEN_LIST_FORMAT, this.file, { version: 2, tokens });
  }
}
