import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ApiClient } from '../../api/client';
import { BerthError } from '../../common/errors';
import { silentLogger } from '../../common/log';
import { serveApi } from './daemon-server';
import { systemHandlers } from './system-handlers';

const dirs: string[] = [];
after(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function socketPath(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-api-'));
  dirs.push(dir);
  return path.join(dir, 'api.sock');
}

const source = {
  version: '9.9.9',
  dataRoot: '/nowhere',
  runtime: 'runc',
  snapshotter: 'overlay',
  startedAt: new Date(0).toISOString(),
  counts: () => Promise.resolve({ containers: { total: 2, running: 1 }, images: 3 }),
};

test('the API answers on a root-only socket; errors keep their kind', async () => {
  const sock = await socketPath();
  await using server = await serveApi(
    sock,
    {
      ...systemHandlers(source),
      containerInspect: ({ params }) => Promise.reject(new BerthError('not_found', `no such container: ${params.id}`)),
    },
    silentLogger(),
  );
  assert.equal((await stat(sock)).mode & 0o777, 0o600);
  const client = new ApiClient({ socketPath: server.socketPath });
  const ping = await client.call('ping');
  assert.deepEqual({ ...ping, pid: 0 }, { ok: true, version: '9.9.9', apiVersion: '1', pid: 0 });
  const info = await client.call('info');
  assert.deepEqual(info.containers, { total: 2, running: 1 });
  await assert.rejects(client.call('containerInspect', { params: { id: 'abc' } }), (e: unknown) => BerthError.is(e, 'not_found') && /no such container: abc/.test(e.message));
  await assert.rejects(client.call('imageList'), (e: unknown) => BerthError.is(e, 'not_implemented'));
});

test('bad requests are 400s with a JSON message; unknown routes 404', async () => {
  const sock = await socketPath();
  // The body is parsed before any handler runs, so this one is never reached.
  await using _server = await serveApi(sock, { ...systemHandlers(source), imagePull: () => Promise.reject(new Error('unreachable')) }, silentLogger());
  const request = (method: string, p: string, body?: string): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = http.request({ socketPath: sock, method, path: p, headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  const notFound = await request('GET', '/v1/nope');
  assert.equal(notFound.status, 404);
  assert.match(notFound.body, /no such API route: GET \/v1\/nope/);
  const badJson = await request('POST', '/v1/images/pull', '{not json');
  assert.equal(badJson.status, 400);
  assert.match((JSON.parse(badJson.body) as { message: string }).message, /not valid JSON/);
});

test('a second engine on a live socket is refused; a stale socket file is replaced', async () => {
  const sock = await socketPath();
  {
    await using _first = await serveApi(sock, systemHandlers(source), silentLogger());
    await assert.rejects(serveApi(sock, systemHandlers(source), silentLogger()), (e: unknown) => BerthError.is(e, 'already_exists'));
  }
  await writeFile(sock, '');
  await using again = await serveApi(sock, systemHandlers(source), silentLogger());
  assert.equal((await new ApiClient({ socketPath: again.socketPath }).call('ping')).ok, true);
});

test('a client without an engine gets a clear "not running" error', async () => {
  const client = new ApiClient({ socketPath: await socketPath() });
  await assert.rejects(client.call('ping'), (e: unknown) => BerthError.is(e, 'unavailable') && /not running/.test(e.message));
});
