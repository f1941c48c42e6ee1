/**
 * ADD from an http URL, end to end on a real berthd against a real HTTP
 * server on 127.0.0.1: the file is named from the URL (or by the
 * destination), gets mode 0600 and the Last-Modified time, is not extracted;
 * the step's cache follows the content; --checksum is checked; a 404 and a
 * COPY from a URL fail clearly.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ApiClient } from '../src/api/client';
import { runChecked } from '../src/common/process/spawn';
import { singleJson } from './support/cli';
import { containerOutput } from './support/container-output';
import { startEngineFixture, type EngineFixture } from './support/engine-fixture';
import { startFileServer, type FileServer } from './support/file-server';

let engine: EngineFixture;
let client: ApiClient;
let server: FileServer;
let base = '';
let files: FileServer['files'];
let requests: string[];

async function build(dockerfile: string, tag: string): Promise<{ code: number | null; result: Record<string, unknown>; stderr: string }> {
  const ctx = await mkdtemp(path.join(engine.dir, 'ctx-'));
  await writeFile(path.join(ctx, 'Dockerfile'), dockerfile);
  const r = await engine.berth(['build', ctx, '-t', tag]);
  return { code: r.code, result: singleJson(r.stdout), stderr: r.stderr };
}

function sh(image: string, script: string): Promise<string> {
  return containerOutput(client, image, script);
}

before(async () => {
  engine = await startEngineFixture('berth-add-url-', { pull: true });
  client = new ApiClient({ socketPath: engine.socket });
  server = await startFileServer();
  ({ base, files, requests } = server);
});

after(async () => {
  await server?.close();
  await engine?.dispose();
});

test('ADD <url>: named from the URL or the destination, mode 0600, Last-Modified time, archives not extracted, cached by content', async () => {
  const tarDir = await mkdtemp(path.join(engine.dir, 'tar-'));
  await writeFile(path.join(tarDir, 'inside.txt'), 'in the archive\n');
  const tarFile = path.join(engine.dir, 'archive.tar');
  await runChecked(['tar', '-cf', tarFile, '-C', tarDir, 'inside.txt']);
  files.set('/files/archive.tar', { body: await readFile(tarFile), modified: new Date('2021-03-04T05:06:07Z') });
  files.set('/files/notes.txt', { body: Buffer.from('first version\n'), modified: new Date('2022-01-02T03:04:05Z') });

  const dockerfile = `FROM ${engine.images.latest}
ADD ${base}/files/archive.tar /dl/
ADD ${base}/files/notes.txt /etc/renamed.txt
`;
  const first = await build(dockerfile, 'addurl:1');
  assert.equal(first.code, 0, first.stderr);
  const out = await sh('addurl:1', 'ls -A /dl; stat -c "%a %Y %s" /dl/archive.tar /etc/renamed.txt; cat /etc/renamed.txt');
  const size = (await readFile(tarFile)).length;
  assert.equal(out, `archive.tar\n600 ${Date.parse('2021-03-04T05:06:07Z') / 1000} ${size}\n600 ${Date.parse('2022-01-02T03:04:05Z') / 1000} 14\nfirst version\n`);

  // Same content: every step from the cache (the files are fetched again to know).
  const before = requests.length;
  const again = await build(dockerfile, 'addurl:2');
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.result['id'], first.result['id']);
  assert.deepEqual([again.result['cached'], again.result['layersWritten']], [2, 0]);
  assert.equal(requests.length - before, 2);

  // New content behind the same URL: that step runs again.
  files.set('/files/notes.txt', { body: Buffer.from('second version\n'), modified: new Date('2022-01-02T03:04:06Z') });
  const changed = await build(dockerfile, 'addurl:3');
  assert.equal(changed.code, 0, changed.stderr);
  assert.deepEqual([changed.result['cached'], changed.result['layersWritten']], [1, 1]);
  assert.equal(await sh('addurl:3', 'cat /etc/renamed.txt'), 'second version\n');
});

test('ADD --checksum: a matching sha256 builds, another fails; 404 and COPY from a URL fail clearly', async () => {
  const body = Buffer.from('checked content\n');
  files.set('/files/checked.txt', { body, modified: new Date('2020-01-01T00:00:00Z') });
  const good = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  const ok = await build(`FROM ${engine.images.latest}\nADD --checksum=${good} ${base}/files/checked.txt /\n`, 'addurl-sum:1');
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(await sh('addurl-sum:1', 'cat /checked.txt'), 'checked content\n');

  const bad = await build(`FROM ${engine.images.latest}\nADD --checksum=sha256:${'0'.repeat(64)} ${base}/files/checked.txt /\n`, 'addurl-sum:2');
  assert.equal(bad.code, 1);
  assert.match(String(bad.result['message']), /Dockerfile:2: ADD --checksum=sha256:0+ .*checksum mismatch.*expected sha256:0+, got sha256:[a-f0-9]{64}/);

  const missing = await build(`FROM ${engine.images.latest}\nADD ${base}/files/absent.txt /\n`, 'addurl-404:1');
  assert.equal(missing.code, 1);
  assert.equal(missing.result['code'], 'not_found');
  assert.match(String(missing.result['message']), /Dockerfile:2: .*cannot download http:\/\/127\.0\.0\.1:\d+\/files\/absent\.txt: 404/);

  const copy = await build(`FROM ${engine.images.latest}\nCOPY ${base}/files/checked.txt /\n`, 'addurl-copy:1');
  assert.equal(copy.code, 1);
  assert.match(String(copy.result['message']), /COPY cannot copy from a URL/);
});
