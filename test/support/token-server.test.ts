import assert from 'node:assert/strict';
import { verify, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTokenServer, type TokenServer } from './token-server';

const SERVICE = 'svc';
const ISSUER = 'iss';

interface Jwt {
  header: { alg: string; typ: string; x5c: string[] };
  claims: { iss: string; sub: string; aud: string; exp: number; nbf: number; iat: number; access: { type: string; name: string; actions: string[] }[] };
  signed: Buffer;
  signature: Buffer;
}

function decode(token: string): Jwt {
  const [h, c, s] = token.split('.');
  assert.ok(h && c && s, 'three parts');
  const json = (part: string): unknown => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  return { header: json(h) as Jwt['header'], claims: json(c) as Jwt['claims'], signed: Buffer.from(`${h}.${c}`), signature: Buffer.from(s, 'base64url') };
}

const basic = (user: string, password: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

describe('token server', { timeout: 30_000 }, () => {
  let dir: string;
  let server: TokenServer;
  let anonymous: TokenServer;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'berth-token-test-'));
    const users = { writer: { password: 'w-pass', permission: 'push' as const }, reader: { password: 'r-pass', permission: 'pull' as const } };
    server = await startTokenServer({ dir, service: SERVICE, issuer: ISSUER, users });
    anonymous = await startTokenServer({ dir: await mkdtemp(path.join(dir, 'anon-')), service: SERVICE, issuer: ISSUER, users, anonymousPull: true });
  });
  after(async () => {
    await server?.stop();
    await anonymous?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const get = (srv: TokenServer, query: string, headers: Record<string, string> = {}): Promise<Response> => fetch(`${srv.realm}?${query}`, { headers });

  test('issues an ES256 JWT with an x5c chain that verifies against its certificate', async () => {
    const res = await get(server, `service=${SERVICE}&scope=repository:app/one:pull,push`, basic('writer', 'w-pass'));
    assert.equal(res.status, 200);
    const body = (await res.json()) as { token: string; access_token: string; expires_in: number };
    assert.equal(body.access_token, body.token);
    const jwt = decode(body.token);
    assert.equal(jwt.header.alg, 'ES256');
    const cert = new X509Certificate(await readFile(server.certPath));
    assert.deepEqual(jwt.header.x5c, [cert.raw.toString('base64')]);
    assert.equal(verify('sha256', jwt.signed, { key: cert.publicKey, dsaEncoding: 'ieee-p1363' }, jwt.signature), true);
    const tampered = Buffer.from(jwt.signed);
    tampered.writeUInt8(tampered.readUInt8(0) ^ 1, 0);
    assert.equal(verify('sha256', tampered, { key: cert.publicKey, dsaEncoding: 'ieee-p1363' }, jwt.signature), false);
    const now = Date.now() / 1000;
    assert.deepEqual([jwt.claims.iss, jwt.claims.aud, jwt.claims.sub], [ISSUER, SERVICE, 'writer']);
    assert.ok(jwt.claims.exp > now + 200 && jwt.claims.nbf <= now);
    assert.deepEqual(jwt.claims.access, [{ type: 'repository', name: 'app/one', actions: ['pull', 'push'] }]);
  });

  test('grants a read-only user pull only, for each requested scope', async () => {
    const res = await get(server, `service=${SERVICE}&scope=repository:a:pull,push&scope=repository:b:push`, basic('reader', 'r-pass'));
    assert.equal(res.status, 200);
    const { claims } = decode(((await res.json()) as { token: string }).token);
    assert.deepEqual(claims.access, [
      { type: 'repository', name: 'a', actions: ['pull'] },
      { type: 'repository', name: 'b', actions: [] },
    ]);
  });

  test('answers the OAuth2 password grant and refuses other grants', async () => {
    const form = (fields: Record<string, string>): Promise<Response> =>
      fetch(server.realm, { method: 'POST', body: new URLSearchParams(fields), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const ok = await form({ grant_type: 'password', username: 'writer', password: 'w-pass', service: SERVICE, scope: 'repository:x:pull', client_id: 't' });
    assert.equal(ok.status, 200);
    assert.deepEqual(decode(((await ok.json()) as { access_token: string }).access_token).claims.access, [{ type: 'repository', name: 'x', actions: ['pull'] }]);
    assert.equal((await form({ grant_type: 'password', username: 'writer', password: 'nope', service: SERVICE })).status, 401);
    assert.equal((await form({ grant_type: 'refresh_token', refresh_token: 'r', service: SERVICE })).status, 400);
  });

  test('refuses missing or wrong credentials, unknown users and other services', async () => {
    const q = `service=${SERVICE}&scope=repository:a:pull`;
    const none = await get(server, q);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Basic /);
    assert.equal((await get(server, q, basic('writer', 'r-pass'))).status, 401);
    assert.equal((await get(server, q, basic('ghost', 'w-pass'))).status, 401);
    assert.equal((await get(server, `service=other&scope=repository:a:pull`, basic('writer', 'w-pass'))).status, 400);
    assert.ok(server.requests.some((r) => r.status === 401 && r.account === 'ghost'));
  });

  test('with anonymousPull, issues pull-only tokens without credentials', async () => {
    const res = await get(anonymous, `service=${SERVICE}&scope=repository:a:pull,push&scope=registry:catalog:*`);
    assert.equal(res.status, 200);
    assert.deepEqual(decode(((await res.json()) as { token: string }).token).claims.access, [
      { type: 'repository', name: 'a', actions: ['pull'] },
      { type: 'registry', name: 'catalog', actions: [] },
    ]);
  });

  test('stop closes the port', async () => {
    const srv = await startTokenServer({ dir: await mkdtemp(path.join(dir, 'stop-')), service: SERVICE, issuer: ISSUER, users: {} });
    await srv.stop();
    await srv.stop();
    await assert.rejects(fetch(srv.realm));
  });
});
