/**
 * Public-key authentication for the agent: only keys listed in the
 * authorized keys (generated per container by the engine) get in.
 */
import { timingSafeEqual } from 'node:crypto';
import { utils, type ParsedKey, type PublicKeyAuthContext } from 'ssh2';

export interface AuthorizedKey {
  readonly type: string;
  readonly blob: Buffer;
  readonly key: ParsedKey;
}

/** Parses an OpenSSH authorized_keys text (comments and blank lines allowed). */
export function parseAuthorizedKeys(text: string): AuthorizedKey[] {
  const keys: AuthorizedKey[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const parsed = utils.parseKey(line);
    if (parsed instanceof Error) throw new Error(`invalid authorized key: ${parsed.message}`);
    const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey) : parsed;
    keys.push({ type: key.type, blob: key.getPublicSSH(), key });
  }
  return keys;
}

function sameBlob(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Accepts a publickey attempt only for a listed key with a valid signature. */
export function checkPublicKey(ctx: PublicKeyAuthContext, authorized: readonly AuthorizedKey[]): boolean {
  const match = authorized.find((k) => sameBlob(k.blob, ctx.key.data));
  if (!match) return false;
  // Without a signature the client only asks whether the key would do.
  if (!ctx.signature || !ctx.blob) return true;
  return match.key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true;
}
