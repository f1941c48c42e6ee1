/** The container lifecycle with real runc and berth-shim (root). */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { EngineEvent } from '../../api/types/containers';
import { BerthError } from '../../common/errors';
import type { ContainerManager } from './manager';
import { cleanupDirs, createDirs, createManager, type BindSnapshots, type FixtureDirs } from './testing';

const isMounted = async (p: string): Promise<boolean> => (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').some((l) => l.split(' ')[4] === p);

describe('container manager (runc)', { timeout: 120_000 }, () => {
  let dirs: FixtureDirs;
  let manager: ContainerManager;
  let snapshots: BindSnapshots;
  const events: EngineEvent[] = [];

  before(async () => {
    dirs = await createDirs();
    const m = await createManager(dirs);
    manager = m.manager;
    snapshots = m.snapshots;
    m.events.subscribe((e) => events.push(e));
    await manager.reconcile();
  });

  after(async () => {
    for (const c of await manager.list({ all: true })) await manager.remove(c.id, { force: true }).catch(() => undefined);
    manager.dispose();
    await cleanupDirs(dirs);
  });

  const run = async (cmd: string[], extra: Record<string, unknown> = {}): Promise<string> => {
    const c = await manager.create({ image: 'busybox', cmd, ...extra });
    await manager.start(c.id);
    return c.id;
  };

  test('true exits 0 and exit 3 exits 3; the record says exited', async () => {
    const a = await run(['true']);
    assert.deepEqual(await manager.wait(a), { exitCode: 0 });
    const b = await run(['sh', '-c', 'exit 3']);
    assert.deepEqual(await manager.wait(b), { exitCode: 3 });
    const rec = await manager.inspect(b);
    assert.equal(rec.state.status, 'exited');
    assert.equal(rec.state.exitCode, 3);
    assert.ok(rec.state.finishedAt >= rec.state.startedAt);
  });

  test('a missing command fails to start with the runtime reason', async () => {
    const c = await manager.create({ image: 'busybox', cmd: ['/nope'] });
    await assert.rejects(manager.start(c.id), (e: unknown) => BerthError.is(e, 'failed_precondition') && /\/nope/.test(e.message) && /no such file|not found/i.test(e.message));
    const rec = await manager.inspect(c.id);
    assert.equal(rec.state.status, 'created');
    assert.equal(rec.state.exitCode, 127);
  });

  test('logs: stdout and stderr with times, tail, since, follow', async () => {
    const started = Date.now() / 1000;
    const id = await run(['sh', '-c', 'echo out1; echo "err \\"1\\"	tab" >&2; sleep 0.4; echo out2; printf last']);
    const followed: { stream: string; line: string; time: string }[] = [];
    for await (const l of manager.logs(id, { follow: true })) followed.push(l);
    assert.deepEqual(
      followed.map((l) => [l.stream, l.line]),
      [
        ['stdout', 'out1'],
        ['stderr', 'err "1"\ttab'],
        ['stdout', 'out2'],
        ['stdout', 'last'],
      ],
    );
    for (const l of followed) assert.match(l.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    const t1 = Date.parse(followed[0]?.time ?? '') / 1000;
    assert.ok(t1 >= started - 1 && t1 <= Date.now() / 1000);
    const tail: string[] = [];
    for await (const l of manager.logs(id, { tail: 2 })) tail.push(l.line);
    assert.deepEqual(tail, ['out2', 'last']);
    const since: string[] = [];
    const cut = Date.parse(followed[2]?.time ?? '') / 1000 - 0.05;
    for await (const l of manager.logs(id, { since: cut })) since.push(l.line);
    assert.deepEqual(since, ['out2', 'last']);
    // The raw file is Docker's json-file format.
    const raw = (await readFile((await manager.inspect(id)).logPath, 'utf8')).split('\n')[1] ?? '';
    assert.deepEqual(Object.keys(JSON.parse(raw) as object), ['log', 'stream', 'time']);
  });

  test('stop: SIGTERM ignored, killed after the timeout', async () => {
    const id = await run(['sh', '-c', "trap '' TERM; sleep 1000 & wait"]);
    const t0 = Date.now();
    await manager.stop(id, { timeout: 1 });
    const took = Date.now() - t0;
    assert.ok(took >= 1000 && took < 8000, `took ${took} ms`);
    const rec = await manager.inspect(id);
    assert.equal(rec.state.status, 'exited');
    assert.equal(rec.state.exitCode, 137);
    // Stopping a stopped container is fine.
    await manager.stop(id);
  });

  test('stop: a process that handles SIGTERM exits with its own code', async () => {
    const id = await run(['sh', '-c', "trap 'exit 42' TERM; while true; do sleep 0.1; done"]);
    await manager.stop(id, { timeout: 10 });
    assert.equal((await manager.inspect(id)).state.exitCode, 42);
  });

  test('kill, and the state machine errors', async () => {
    const id = await run(['sleep', '1000']);
    await assert.rejects(manager.start(id), (e: unknown) => BerthError.is(e, 'failed_precondition') && /already running/.test(e.message));
    await assert.rejects(manager.remove(id), (e: unknown) => BerthError.is(e, 'failed_precondition') && /cannot remove a running container .*: stop it first or use force/.test(e.message));
    await manager.kill(id, 'SIGKILL');
    assert.deepEqual(await manager.wait(id), { exitCode: 137 });
    await assert.rejects(manager.kill(id), (e: unknown) => BerthError.is(e, 'failed_precondition') && /is not running/.test(e.message));
    await assert.rejects(manager.exec(id, { cmd: ['true'] }), (e: unknown) => BerthError.is(e, 'failed_precondition') && /is not running/.test(e.message));
    await assert.rejects(manager.inspect('no-such'), (e: unknown) => BerthError.is(e, 'not_found'));
  });

  test('restart runs the container again and counts it', async () => {
    const id = await run(['sh', '-c', 'echo started; sleep 1000'], { name: 'restarted' });
    await manager.restart('restarted', { timeout: 0 });
    const rec = await manager.inspect(id);
    assert.equal(rec.state.status, 'running');
    assert.equal(rec.restartCount, 1);
    await new Promise((r) => setTimeout(r, 300));
    const lines: string[] = [];
    for await (const l of manager.logs(id, {})) lines.push(l.line);
    assert.deepEqual(lines, ['started', 'started']);
    await manager.stop(id, { timeout: 0 });
  });

  test('remove: exited, and running with force; rootfs, snapshot and files are gone', async () => {
    const a = await run(['true']);
    await manager.wait(a);
    const recA = await manager.inspect(a);
    await manager.remove(a);
    assert.equal(existsSync(recA.bundle), false);
    const b = await run(['sleep', '1000'], { labels: { team: 'x' } });
    const recB = await manager.inspect(b);
    assert.equal(await isMounted(`${recB.bundle}/rootfs`), true);
    await manager.remove(b, { force: true });
    assert.equal(await isMounted(`${recB.bundle}/rootfs`), false);
    assert.equal(snapshots.keys.has(`container-${b}`), false);
    await assert.rejects(manager.inspect(b), (e: unknown) => BerthError.is(e, 'not_found'));
    const mine = events.filter((e) => e.id === b).map((e) => e.action);
    assert.deepEqual(mine, ['create', 'start', 'die', 'destroy']);
    assert.equal(events.find((e) => e.id === b && e.action === 'die')?.attributes['exitCode'], '137');
    assert.equal(events.find((e) => e.id === b && e.action === 'destroy')?.attributes['team'], 'x');
  });

  test('list filters: label, name, status, ancestor', async () => {
    const a = await run(['sleep', '1000'], { name: 'filter-a', labels: { role: 'web', tier: '1' } });
    const b = await run(['true'], { name: 'filter-b', labels: { role: 'db' } });
    await manager.wait(b);
    const ids = async (f: Parameters<ContainerManager['list']>[0]): Promise<string[]> => (await manager.list(f)).map((c) => c.id).filter((i) => i === a || i === b);
    assert.deepEqual(await ids({}), [a]);
    assert.deepEqual((await ids({ all: true })).sort(), [a, b].sort());
    assert.deepEqual(await ids({ all: true, label: ['role=db'] }), [b]);
    assert.deepEqual(await ids({ all: true, label: ['tier'] }), [a]);
    assert.deepEqual(await ids({ all: true, name: ['filter-b'] }), [b]);
    assert.deepEqual(await ids({ status: ['exited'] }), [b]);
    assert.deepEqual((await ids({ all: true, ancestor: ['busybox'] })).sort(), [a, b].sort());
    assert.deepEqual(await ids({ all: true, ancestor: ['debian'] }), []);
    await assert.rejects(manager.create({ image: 'busybox', name: 'filter-a', cmd: ['true'] }), (e: unknown) => BerthError.is(e, 'already_exists'));
    await manager.remove(a, { force: true });
    await manager.remove(b);
  });

  test('auto-remove removes the container once it exits', async () => {
    const id = await run(['true'], { autoRemove: true });
    await manager.wait(id);
    for (let i = 0; i < 100 && (await manager.list({ all: true })).some((c) => c.id === id); i++) await new Promise((r) => setTimeout(r, 50));
    await assert.rejects(manager.inspect(id), (e: unknown) => BerthError.is(e, 'not_found'));
  });

  test('concurrency: 10 containers in parallel; two stop+remove on one serialize', async () => {
    const ids = await Promise.all(Array.from({ length: 10 }, () => run(['sleep', '1000'])));
    for (const id of ids) assert.equal((await manager.inspect(id)).state.status, 'running');
    const target = ids[0] ?? '';
    const both = await Promise.allSettled([0, 1].map(async () => {
      await manager.stop(target, { timeout: 1 });
      await manager.remove(target);
    }));
    const fulfilled = both.filter((r) => r.status === 'fulfilled').length;
    const rejected = both.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(fulfilled, 1);
    assert.ok(rejected.every((r) => BerthError.is(r.reason, 'not_found')), String(rejected[0]?.reason));
    await Promise.all(ids.slice(1).map((id) => manager.remove(id, { force: true })));
    assert.equal((await manager.list({ all: true })).filter((c) => ids.includes(c.id)).length, 0);
  });
});
