import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { ANONYMOUS_LABEL } from '../../api/types/volumes';
import { silentLogger } from '../../common/log';
import { VolumeStore } from './store';

let dir = '';
/** Stands for the container records: volume name -> container ids. */
let used = new Map<string, string[]>();
let store: VolumeStore;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'berth-vol-'));
  used = new Map();
  store = new VolumeStore({ root: path.join(dir, 'volumes'), logger: silentLogger(), usage: () => Promise.resolve(used) });
  await store.init();
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

test('create is idempotent for a name, keeps metadata beside the data, and inspect reads it back', async () => {
  const v = await store.create({ name: 'data', labels: { team: 'a' } });
  assert.equal(v.mountpoint, path.join(dir, 'volumes', 'data', '_data'));
  assert.equal(v.driver, 'local');
  assert.deepEqual(v.labels, { team: 'a' });
  await writeFile(path.join(v.mountpoint, 'f'), 'kept');
  const again = await store.create({ name: 'data', labels: { other: 'b' } });
  assert.deepEqual(again.labels, { team: 'a' }, 'the existing volume, unchanged');
  assert.equal(await readFile(path.join(v.mountpoint, 'f'), 'utf8'), 'kept');
  const meta = JSON.parse(await readFile(path.join(dir, 'volumes', 'data', 'volume.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(meta).sort(), ['createdAt', 'driver', 'labels', 'mountpoint', 'name', 'options']);
  assert.deepEqual((await store.inspect('data')).usedBy, []);
  await assert.rejects(store.inspect('nope'), /get nope: no such volume/);
  await assert.rejects(store.inspect('../etc'), /no such volume/);
  await assert.rejects(store.create({ name: '../x' }), /invalid characters/);
  await assert.rejects(store.create({ name: 'x1', driver: 'nfs' }), /driver "nfs" is not supported/);
  await assert.rejects(store.create({ name: 'x1', options: { type: 'tmpfs' } }), { code: 'not_implemented' });
  await assert.rejects(store.create({ name: 'x1', options: { bogus: '1' } }), /invalid option key/);
});

test('a volume without a name is anonymous: 64 hex and the anonymous label', async () => {
  const v = await store.create({});
  assert.match(v.name, /^[0-9a-f]{64}$/);
  assert.equal(v.labels[ANONYMOUS_LABEL], '');
});

test('list filters by name, label, driver and dangling', async () => {
  await store.create({ name: 'alpha', labels: { k: 'v' } });
  await store.create({ name: 'beta', labels: { k: 'w' } });
  await store.create({ name: 'gamma' });
  used.set('beta', ['c1']);
  const names = async (f: Parameters<VolumeStore['list']>[0]): Promise<string[]> => (await store.list(f)).map((v) => v.name);
  assert.deepEqual(await names({}), ['alpha', 'beta', 'gamma']);
  assert.deepEqual(await names({ name: ['ph'] }), ['alpha']);
  assert.deepEqual(await names({ label: ['k'] }), ['alpha', 'beta']);
  assert.deepEqual(await names({ label: ['k=w'] }), ['beta']);
  assert.deepEqual(await names({ dangling: true }), ['alpha', 'gamma']);
  assert.deepEqual(await names({ dangling: false }), ['beta']);
  assert.deepEqual(await names({ driver: ['other'] }), []);
  assert.deepEqual((await store.list({ name: ['beta'] }))[0]?.usedBy, ['c1']);
});

test('remove refuses a volume any container uses; force only ignores a missing one', async () => {
  await store.create({ name: 'busy' });
  used.set('busy', ['c1']);
  await assert.rejects(store.remove('busy'), (err: Error & { code?: string }) => err.code === 'conflict' && /remove busy: volume is in use - \[c1\]/.test(err.message));
  await assert.rejects(store.remove('busy', { force: true }), { code: 'conflict' });
  await assert.rejects(store.remove('ghost'), { code: 'not_found' });
  await store.remove('ghost', { force: true });
  used.clear();
  await store.remove('busy');
  assert.equal(existsSync(path.join(dir, 'volumes', 'busy')), false);
});

test('prune removes unused anonymous volumes by default, named ones too with all', async () => {
  const anon = await store.create({});
  const anonUsed = await store.create({});
  await store.create({ name: 'named', labels: { keep: 'no' } });
  await store.create({ name: 'kept', labels: { keep: 'yes' } });
  used.set(anonUsed.name, ['c1']);
  await writeFile(path.join(anon.mountpoint, 'f'), 'x'.repeat(1000));
  const first = await store.prune();
  assert.deepEqual(first.deleted, [anon.name]);
  assert.equal(first.spaceReclaimed, 1000);
  const second = await store.prune({ all: true, labelNot: ['keep=yes'] });
  assert.deepEqual(second.deleted, ['named']);
  assert.deepEqual((await store.list()).map((v) => v.name).sort(), [anonUsed.name, 'kept'].sort());
});

test('a create in flight holds its volumes until released; populate runs once under the lock', async () => {
  let populated = 0;
  const { volume, created, anonymous } = await store.acquire('ctr1', 'shared', { populate: () => Promise.resolve(void populated++) });
  assert.equal(created, true);
  assert.equal(anonymous, false);
  assert.equal(populated, 1);
  await assert.rejects(store.remove(volume.name), /volume is in use - \[ctr1\]/);
  store.release('ctr1');
  await store.remove(volume.name);
  const anon = await store.acquire('ctr2', undefined);
  assert.equal(anon.anonymous, true);
  assert.equal(anon.volume.labels[ANONYMOUS_LABEL], '');
});

test('init clears what a crash left (half-created and half-removed volumes) and never data', async () => {
  await store.create({ name: 'whole' });
  await mkdir(path.join(dir, 'volumes', 'half', '_data'), { recursive: true });
  await mkdir(path.join(dir, 'volumes', '.trash-gone-1234', '_data'), { recursive: true });
  // Data without (readable) metadata is never thrown away.
  await mkdir(path.join(dir, 'volumes', 'orphan', '_data'), { recursive: true });
  await writeFile(path.join(dir, 'volumes', 'orphan', '_data', 'f'), 'data');
  await store.create({ name: 'corrupt' });
  await writeFile(path.join(dir, 'volumes', 'corrupt', 'volume.json'), '{"na');
  await writeFile(path.join(dir, 'volumes', 'corrupt', '_data', 'f'), 'data');
  await store.init();
  assert.equal(await readFile(path.join(dir, 'volumes', 'orphan', '_data', 'f'), 'utf8'), 'data');
  assert.equal(await readFile(path.join(dir, 'volumes', 'corrupt', '_data', 'f'), 'utf8'), 'data');
  await assert.rejects(store.create({ name: 'corrupt' }), /no readable metadata/);
  await assert.rejects(store.create({ name: 'orphan' }), /no readable metadata/);
  assert.equal(await readFile(path.join(dir, 'volumes', 'corrupt', '_data', 'f'), 'utf8'), 'data');
  assert.deepEqual((await store.list()).map((v) => v.name), ['whole']);
  assert.equal(existsSync(path.join(dir, 'volumes', 'half')), false);
  assert.equal(existsSync(path.join(dir, 'volumes', '.trash-gone-1234')), false);
});
