/**
 * berthd on the plain-copy snapshotter (what it falls back to where overlay
 * mounts do not work): pull, run with the layers' whiteouts applied, writes
 * that stay in the container's own copy, and removal.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { ApiClient } from '../src/api/client';
import { runBerth } from './support/cli';
import { startRegistry, type Registry } from './support/registry';
import { ensureTestImages, type TestImages } from './support/test-images';

let dir = '';
let socket = '';
let registry: Registry;
let images: TestImages;
let client: ApiClient;
const exec = promisify(execFile);

async function run(cmd: string[]): Promise<{ id: string; exitCode: number; stdout: string }> {
  const { id } = await client.call('containerCreate', { body: { image: images.latest, cmd, networkMode: 'none' } });
  await client.call('containerStart', { params: { id } });
  const { exitCode } = await client.call('containerWait', { params: { id } });
  let stdout = '';
  for await (const l of client.stream('containerLogs', { params: { id } })) if (l.stream === 'stdout') stdout += `${l.line}\n`;
  return { id, exitCode, stdout };
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-engine-native-'));
  socket = path.join(dir, 'run', 'berth.sock');
  registry = await startRegistry();
  images = await ensureTestImages(registry);
  const r = await runBerth(['engine', 'start', '--data-root', path.join(dir, 'data'), '--socket', socket, '--snapshotter', 'native']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  client = new ApiClient({ socketPath: socket });
  const pulled = await runBerth(['pull', images.latest, '--socket', socket]);
  assert.equal(pulled.code, 0, pulled.stdout + pulled.stderr);
});

after(async () => {
  if (socket) await runBerth(['engine', 'stop', '--socket', socket]);
  await registry?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('berthd --snapshotter native runs containers from plain copies of the layers', async () => {
  assert.equal((await client.call('info')).snapshotter, 'native');
  const first = await run(['sh', '-c', 'test ! -e /etc/removed-file && ls /etc && echo changed > /etc/motd && cat /etc/motd']);
  assert.equal(first.exitCode, 0, first.stdout);
  assert.match(first.stdout, /passwd/);
  assert.match(first.stdout, /changed/);
  const second = await run(['cat', '/etc/motd']);
  assert.doesNotMatch(second.stdout, /changed/, "one container's writes do not reach another's");
  const overlayDir = path.join(dir, 'data', 'snapshots', 'overlay');
  assert.deepEqual(await readdir(overlayDir).catch(() => []), [], 'no overlay snapshots were made');
  for (const id of [first.id, second.id]) await client.call('containerRemove', { params: { id } });
  assert.deepEqual(await client.call('containerList', { query: { all: 'true' } }), []);
});

test('berthd falls back to plain copies where overlay mounts do not work (a data root on overlayfs)', async () => {
  const base = path.join(dir, 'ovl');
  for (const d of ['lower', 'upper', 'work', 'merged']) await mkdir(path.join(base, d), { recursive: true });
  const merged = path.join(base, 'merged');
  await exec('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${base}/lower,upperdir=${base}/upper,workdir=${base}/work`, merged]);
  const sock = path.join(dir, 'run-ovl', 'berth.sock');
  try {
    const r = await runBerth(['engine', 'start', '--data-root', path.join(merged, 'data'), '--socket', sock]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const other = new ApiClient({ socketPath: sock });
    assert.equal((await other.call('info')).snapshotter, 'native');
    assert.equal((await runBerth(['pull', images.latest, '--socket', sock])).code, 0);
    const { id } = await other.call('containerCreate', { body: { image: images.latest, cmd: ['true'], networkMode: 'none' } });
    await other.call('containerStart', { params: { id } });
    assert.equal((await other.call('containerWait', { params: { id } })).exitCode, 0);
    await other.call('containerRemove', { params: { id } });
  } finally {
    await runBerth(['engine', 'stop', '--socket', sock]);
    await exec('umount', ['-l', merged]);
  }
});
