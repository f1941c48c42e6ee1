/**
 * The gateway's access tokens, in one JSON file (mode 0600, in a 0700
 * folder). A token is "berth_<id>_<secret>": the file keeps its id, user,
 * times and the SHA-256 of the secret, never the secret. `berth token`
 * writes the file; the gateway re-reads it when it changes, so a revoke
 * takes effect on the next request.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../common/errors';

export interface TokenRecord {
  readonly id: string;
  readonly user: string;
  /** SHA-256 of the secret, hex. */
  readonly hash: string;
  readonly createdAt: string;
  readonly expiresAt?: string;
  readonly revokedAt?: string;
}

/** What `berth token list` shows: everything but the hash. */
export type TokenInfo = Omit<TokenRecord, 'hash'> & { readonly state: 'active' | 'expired' | 'revoked' };

interface TokenFile {
  readonly version: 1;
  readonly tokens: readonly TokenRecord[];
}

const USER = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$/;
const TOKEN = /^berth_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

export function validUser(user: string): string {
  if (!USER.test(user)) throw new BerthError('invalid_argument', `--user "${user}": letters, digits and _ . @ - only (at most 64)`);
  return user;
}

function stateOf(t: TokenRecord, now: number): TokenInfo['state'] {
  if (t.revokedAt) return 'revoked';
  if (t.expiresAt && Date.parse(t.expiresAt) <= now) return 'expired';
  return 'active';
}

export class TokenStore {
  private cache: { mtimeMs: number; size: number; file: TokenFile } | undefined;

  constructor(readonly file: string) {}

  private async read(): Promise<TokenFile> {
    const st = await stat(this.file).catch(() => undefined);
    if (!st) return { version: 1, tokens: [] };
    if (this.cache && this.cache.mtimeMs === st.mtimeMs && this.cache.size === st.size) return this.cache.file;
    let parsed: TokenFile;
    try {
      parsed = JSON.parse(await readFile(this.file, 'utf8')) as TokenFile;
    } catch (err) {
      throw new BerthError('internal', `cannot read the token file ${this.file}: ${(err as Error).message}`, { cause: err });
    }
    if (parsed.version !== 1 || !Array.isArray(parsed.tokens)) throw new BerthError('internal', `${this.file} is not a Berth token file`);
    this.cache = { mtimeMs: st.mtimeMs, size: st.size, file: parsed };
    return parsed;
  }

  private async write(file: TokenFile): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, this.file);
    this.cache = undefined;
  }

  async create(user: string, options: { expiresInMs?: number; now?: number } = {}): Promise<{ token: string; info: TokenInfo }> {
    validUser(user);
    const now = options.now ?? Date.now();
    const id = randomBytes(6).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const record: TokenRecord = {
      id,
      user,
      hash: sha256(secret).toString('hex'),
      createdAt: new Date(now).toISOString(),
      ...(options.expiresInMs !== undefined ? { expiresAt: new Date(now + options.expiresInMs).toISOString() } : {}),
    };
    const file = await this.read();
    await this.write({ version: 1, tokens: [...file.tokens, record] });
    const { hash: _hash, ...rest } = record;
    return { token: `berth_${id}_${secret}`, info: { ...rest, state: 'active' } };
  }

  async list(now = Date.now()): Promise<TokenInfo[]> {
    return (await this.read()).tokens.map(({ hash: _hash, ...rest }) => ({ ...rest, state: stateOf({ hash: '', ...rest }, now) }));
  }

  /** Revokes a token by its id (or the whole token text). */
  async revoke(idOrToken: string, now = Date.now()): Promise<TokenInfo> {
    const id = TOKEN.exec(idOrToken)?.[1] ?? idOrToken;
    const file = await this.read();
    const found = file.tokens.find((t) => t.id === id);
    if (!found) throw new BerthError('not_found', `no token with id ${id}`);
    const revoked: TokenRecord = found.revokedAt ? found : { ...found, revokedAt: new Date(now).toISOString() };
    await this.write({ version: 1, tokens: file.tokens.map((t) => (t.id === id ? revoked : t)) });
    const { hash: _hash, ...rest } = revoked;
    return { ...rest, state: 'revoked' };
  }

  /** The user a token belongs to; unauthenticated when it is unknown, wrong, expired or revoked. */
  async verify(token: string, now = Date.now()): Promise<{ user: string; id: string }> {
    const m = TOKEN.exec(token);
    if (!m) throw new BerthError('unauthenticated', 'not a Berth token');
    const found = (await this.read()).tokens.find((t) => t.id === m[1]);
    const given = sha256(m[2] ?? '');
    if (!found || !timingSafeEqual(given, Buffer.from(found.hash, 'hex'))) throw new BerthError('unauthenticated', 'unknown token');
    const state = stateOf(found, now);
    if (state !== 'active') throw new BerthError('unauthenticated', `token ${found.id} is ${state}`);
    return { user: found.user, id: found.id };
  }
}
