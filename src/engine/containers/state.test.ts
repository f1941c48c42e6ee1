import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { ContainerRecord, ContainerStatus } from '../../api/types/containers';
import { BerthError } from '../../common/errors';
import { FrameDecoder, encodeFrame, resizeFrame } from '../shim/protocol';
import { parseLogEntry, timeNanos } from './logs';
import { canExec, canKill, canRemove, canStart, canStop, canTransition } from './state';
import { ContainerStore } from './store';

const rec = (status: ContainerStatus, id = 'a'.repeat(64), name = 'web'): ContainerRecord => ({
  id,
  name,
  imageId: `sha256:${'0'.repeat(64)}`,
  imageRef: 'busybox',
  created: new Date().toISOString(),
  request: { image: 'busybox' },
  path: 'sh',
  args: [],
  state: { status, pid: 0, exitCode: 0, oomKilled: false, error: '', startedAt: '', finishedAt: '' },
  bundle: '/b',
  logPath: '/l',
  restartCount: 0,
});

test('state guards answer typed errors', () => {
  assert.equal(canStart(rec('created')), undefined);
  assert.equal(canStart(rec('exited')), undefined);
  assert.match(canStart(rec('running'))?.message ?? '', /container web is already running/);
  assert.equal(canStart(rec('removing'))?.code, 'failed_precondition');
  assert.equal(canKill(rec('running')), undefined);
  assert.equal(canKill(rec('exited'))?.message, 'container web is not running');
  assert.equal(canExec(rec('created'))?.code, 'failed_precondition');
  assert.equal(canStop(rec('exited')), undefined);
  assert.equal(canRemove(rec('running'), false)?.message, 'cannot remove a running container web: stop it first or use force');
  assert.equal(canRemove(rec('running'), true), undefined);
  assert.ok(canRemove(rec('removing'), true) instanceof BerthError);
  assert.equal(canTransition('created', 'running'), true);
  assert.equal(canTransition('removing', 'running'), false);
});

test('store: atomic records, unique and generated names, lookup by prefix', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'berth-store-'));
  try {
    const store = new ContainerStore(dir);
    await store.load();
    const name = store.reserveName(undefined);
    assert.match(name, /^[a-z]+_[a-z]+(_[0-9a-f]{4})?$/);
    assert.throws(() => store.reserveName(name), (e: unknown) => BerthError.is(e, 'already_exists'));
    assert.throws(() => store.reserveName('bad name'), (e: unknown) => BerthError.is(e, 'invalid_argument'));
    store.releaseName(name);
    const r = rec('created', 'ab'.repeat(32), 'one');
    await import('node:fs/promises').then((fs) => fs.mkdir(store.dir(r.id), { recursive: true }));
    await Promise.all([store.save(r), store.save({ ...r, restartCount: 2 })]);
    const onDisk = JSON.parse(await readFile(path.join(store.dir(r.id), 'config.v2.json'), 'utf8')) as ContainerRecord;
    assert.equal(onDisk.restartCount, 2);
    const again = new ContainerStore(dir);
    await again.load();
    assert.equal(again.find('one').id, r.id);
    assert.equal(again.find('/one').id, r.id);
    assert.equal(again.find('abab').id, r.id);
    assert.throws(() => again.find('nope'), (e: unknown) => BerthError.is(e, 'not_found'));
    assert.throws(() => again.reserveName('one'), (e: unknown) => BerthError.is(e, 'already_exists'));
    await again.delete(r.id);
    assert.equal(again.all().length, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('attach frames round-trip through the decoder, split anywhere', () => {
  const wire = Buffer.concat([encodeFrame(1, Buffer.from('hello')), resizeFrame(40, 120), encodeFrame(2)]);
  for (let cut = 0; cut <= wire.length; cut++) {
    const d = new FrameDecoder();
    const frames = [...d.push(wire.subarray(0, cut)), ...d.push(wire.subarray(cut))];
    assert.deepEqual(
      frames.map((f) => [f.type, [...f.payload]]),
      [
        [1, [...Buffer.from('hello')]],
        [3, [0, 40, 0, 120]],
        [2, []],
      ],
    );
  }
  assert.throws(() => new FrameDecoder().push(Buffer.from([1, 0xff, 0, 0, 0])), RangeError);
});

test('log entries: json-file lines and nanosecond times', () => {
  assert.deepEqual(parseLogEntry('{"log":"a\\"b\\n","stream":"stderr","time":"2024-01-02T03:04:05.123456789Z"}'), { stream: 'stderr', line: 'a"b', time: '2024-01-02T03:04:05.123456789Z' });
  assert.equal(parseLogEntry('{"torn'), undefined);
  assert.equal(timeNanos('2024-01-02T03:04:05.123456789Z'), 1704164645123456789n);
  assert.equal(timeNanos('2024-01-02T03:04:05Z'), 1704164645000000000n);
});
