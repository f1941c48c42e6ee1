/**
 * The native API's file access to a running container (containerFilesRead
 * and containerFilesWrite), on a real berthd with busybox: what the engine
 * writes the container sees (modes, owner, through its mounts), what the
 * container wrote the engine reads, links the container plants cannot take
 * a write out to the host, and a stopped or read-only container is refused.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ApiClient } from '../src/api/client';
import type { ContainerCreateRequest } from '../src/api/types/containers';
import { BerthError } from '../src/common/errors';
import { startEngineFixture, type EngineFixture } from './support/engine-fixture';

let engine: EngineFixture;
let client: ApiClient;
let hostDir: string;
let id: string;

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const text = (s: string | undefined): string => Buffer.from(s ?? '', 'base64').toString('utf8');

async function run(container: string, script: string): Promise<string> {
  let out = '';
  let code = -1;
  for await (const m of client.stream('containerExec', { params: { id: container }, body: { cmd: ['/bin/sh', '-c', script] } })) {
    if ('exitCode' in m) code = m.exitCode;
    else out += m.text;
  }
  assert.equal(code, 0, out);
  return out;
}

async function started(body: Omit<ContainerCreateRequest, 'image'> = {}): Promise<string> {
  const c = await client.call('containerCreate', { body: { image: engine.images.latest, cmd: ['sleep', '1000'], networkMode: 'none', ...body } });
  await client.call('containerStart', { params: { id: c.id } });
  return c.id;
}

before(async () => {
  engine = await startEngineFixture('berth-files-', { pull: true });
  client = new ApiClient({ socketPath: engine.socket });
  hostDir = mkdtempSync(path.join(engine.dir, 'bind-'));
  writeFileSync(path.join(hostDir, 'from-host'), 'hello from the host\n');
  id = await started({ mounts: [{ type: 'bind', source: hostDir, target: '/mnt/host' }] });
});

after(async () => {
  await engine?.dispose();
});

test('writes directories and files as root with their modes; the container sees them', async () => {
  await client.call('containerFilesWrite', {
    params: { id },
    body: {
      entries: [
        { path: '/var/lib/marks', kind: 'directory', mode: 0o1777 },
        { path: '/var/lib/marks/one', kind: 'file', content: b64('first\n') },
        { path: '/var/lib/marks/secret', kind: 'file', content: b64('s\n'), mode: 0o600 },
      ],
    },
  });
  assert.equal(await run(id, 'stat -c "%a %U %n" /var/lib/marks /var/lib/marks/one /var/lib/marks/secret; cat /var/lib/marks/one'), '1777 root /var/lib/marks\n644 root /var/lib/marks/one\n600 root /var/lib/marks/secret\nfirst\n');
  // Written again: replaced whole.
  await client.call('containerFilesWrite', { params: { id }, body: { entries: [{ path: '/var/lib/marks/one', kind: 'file', content: b64('2') }] } });
  assert.equal(await run(id, 'cat /var/lib/marks/one'), '2');
});

test('reads what the container wrote, a directory at once, through its mounts', async () => {
  await run(id, 'mkdir -p /data && printf abc > /data/f && ln -s f /data/link && mkdir /data/sub');
  const { entries } = await client.call('containerFilesRead', { params: { id }, query: { path: '/data' } });
  assert.deepEqual(
    entries.map((e) => [e.name, e.kind, e.kind === 'file' ? text(e.content) : undefined]),
    [
      ['f', 'file', 'abc'],
      ['link', 'symlink', undefined],
      ['sub', 'directory', undefined],
    ],
  );
  const single = await client.call('containerFilesRead', { params: { id }, query: { path: '/data/link' } });
  assert.deepEqual(single.entries.map((e) => [e.name, text(e.content)]), [['f', 'abc']]);
  // The bind mount is seen as the container sees it; a write there reaches the host's folder.
  const mounted = await client.call('containerFilesRead', { params: { id }, query: { path: '/mnt/host/from-host' } });
  assert.equal(text(mounted.entries[0]?.content), 'hello from the host\n');
  await client.call('containerFilesWrite', { params: { id }, body: { entries: [{ path: '/mnt/host/from-engine', kind: 'file', content: b64('x') }] } });
  assert.equal(readFileSync(path.join(hostDir, 'from-engine'), 'utf8'), 'x');
  await assert.rejects(client.call('containerFilesRead', { params: { id }, query: { path: '/nope' } }), (err: unknown) => BerthError.is(err) && err.code === 'not_found');
});

test("links the container plants lead inside it, never to the host's files", async () => {
  const marker = path.join(engine.dir, `escape-${process.pid}`);
  // An absolute link to where the host keeps the engine's files, and a link at the destination itself.
  await run(id, `mkdir -p /esc && ln -s ${engine.dir} /esc/dir && ln -s ${marker} /esc/file && ln -s /etc/passwd /esc/passwd`);
  await client.call('containerFilesWrite', { params: { id }, body: { entries: [{ path: `/esc/dir/escape-${process.pid}`, kind: 'directory' }, { path: '/esc/file', kind: 'file', content: b64('no') }] } });
  assert.ok(!existsSync(marker), 'the write went out to the host');
  assert.equal(await run(id, `test -d ${engine.dir}/escape-${process.pid} && echo inside; test -f /esc/file && ! test -L /esc/file && cat /esc/file`), 'inside\nno');
  // Reading through a link to /etc/passwd reads the container's, not the host's.
  const passwd = await client.call('containerFilesRead', { params: { id }, query: { path: '/esc/passwd' } });
  assert.equal(text(passwd.entries[0]?.content), await run(id, 'cat /etc/passwd'));
});

test('refused: a stopped container, a read-only root filesystem, a relative path, a bad mode', async () => {
  const stopped = (await client.call('containerCreate', { body: { image: engine.images.latest, cmd: ['true'], networkMode: 'none' } })).id;
  await assert.rejects(client.call('containerFilesRead', { params: { id: stopped }, query: { path: '/' } }), (err: unknown) => BerthError.is(err) && err.code === 'conflict');
  const ro = await started({ readonlyRootfs: true });
  await assert.rejects(
    client.call('containerFilesWrite', { params: { id: ro }, body: { entries: [{ path: '/x', kind: 'file', content: '' }] } }),
    (err: unknown) => BerthError.is(err) && err.code === 'failed_precondition' && /read-only/.test(err.message),
  );
  await assert.rejects(client.call('containerFilesRead', { params: { id }, query: { path: 'etc' } }), (err: unknown) => BerthError.is(err) && err.code === 'invalid_argument');
  await assert.rejects(
    client.call('containerFilesWrite', { params: { id }, body: { entries: [{ path: '/x', kind: 'directory', mode: 0o10000 }] } }),
    (err: unknown) => BerthError.is(err) && err.code === 'invalid_argument',
  );
});
