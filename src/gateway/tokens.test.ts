import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { BerthError } from '../common/errors';
import { TokenStore } from './tokens';

const refused = (re: RegExp) => (err: unknown) => BerthError.is(err, 'unauthenticated') && re.test(err.message);

test('tokens: created, verified, expired and revoked; the file (0600 in a 0700 folder) holds hashes only', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-tokens-'));
  try {
    const store = new TokenStore(path.join(dir, 'etc', 'tokens.json'));
    const now = Date.parse('2026-01-01T00:00:00Z');
    const a = await store.create('alice', { now });
    const b = await store.create('bob', { now, expiresInMs: 60_000 });
    assert.match(a.token, /^berth_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(await store.verify(a.token, now), { user: 'alice', id: a.info.id });
    assert.equal((await store.verify(b.token, now + 59_000)).user, 'bob');
    await assert.rejects(store.verify(b.token, now + 60_000), refused(/is expired/));
    const text = await readFile(store.file, 'utf8');
    assert.ok(!text.includes(a.token.split('_')[2] ?? '?'));
    assert.equal((await stat(store.file)).mode & 0o777, 0o600);
    assert.equal((await stat(path.dirname(store.file))).mode & 0o777, 0o700);
    // A token whose secret differs by one character is unknown.
    const last = a.token.at(-1) === 'A' ? 'B' : 'A';
    await assert.rejects(store.verify(a.token.slice(0, -1) + last, now), refused(/unknown token/));
    await assert.rejects(store.verify('nope', now), refused(/not a Berth token/));
    // Revoked by id or by the token; a second store (the gateway) sees it at once.
    const gateway = new TokenStore(store.file);
    assert.equal((await gateway.verify(a.token, now)).user, 'alice');
    await new Promise((r) => setTimeout(r, 10));
    assert.equal((await store.revoke(a.token, now)).state, 'revoked');
    await assert.rejects(gateway.verify(a.token, now), refused(/is revoked/));
    await assert.rejects(store.revoke('000000000000'), (err: unknown) => BerthError.is(err, 'not_found'));
    assert.deepEqual(
      (await store.list(now + 61_000)).map((t) => [t.user, t.state]),
      [
        ['alice', 'revoked'],
        ['bob', 'expired'],
      ],
    );
    await assert.rejects(store.create('bad user'), (err: unknown) => BerthError.is(err, 'invalid_argument'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
