/** The runtime driver, and crun through berth-shim (with the hybrid-cgroup workaround where needed). Root. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BerthError } from '../../common/errors';
import type { ContainerManager } from '../containers/manager';
import { cleanupDirs, createDirs, createManager, type FixtureDirs } from '../containers/testing';
import { createRuntime, isHybridCgroup } from './runtime';

test('argv: Berth root, and crun hides cgroup2 on hybrid hosts', async () => {
  const runc = await createRuntime({ name: 'runc', root: '/run/berth/runc' });
  assert.deepEqual(runc.argv('state', 'x'), ['runc', '--root', '/run/berth/runc', 'state', 'x']);
  const crun = await createRuntime({ name: 'crun', root: '/run/berth/crun' });
  const hybrid = await isHybridCgroup();
  assert.equal(crun.argv('state', 'x')[0], hybrid ? 'unshare' : 'crun');
  assert.deepEqual(crun.shimCommand().flags, hybrid ? ['--umount-unified'] : []);
  assert.deepEqual(await runc.state(`no-such-${process.pid}`), undefined);
  await assert.rejects(runc.kill(`no-such-${process.pid}`, 'TERM'), (e: unknown) => BerthError.is(e, 'not_found'));
  await assert.rejects(runc.kill('x', 'TERM; rm'), (e: unknown) => BerthError.is(e, 'invalid_argument'));
  await runc.delete(`no-such-${process.pid}`, { force: true });
});

for (const name of ['runc', 'crun'] as const) {
  describe(`${name} through the manager`, { timeout: 60_000 }, () => {
    let dirs: FixtureDirs;
    let manager: ContainerManager;
    before(async () => {
      dirs = await createDirs();
      ({ manager } = await createManager(dirs, name));
      await manager.reconcile();
    });
    after(async () => {
      for (const c of await manager.list({ all: true })) await manager.remove(c.id, { force: true }).catch(() => undefined);
      manager.dispose();
      await cleanupDirs(dirs);
    });

    test('run, state, pause/resume, exec, stop, exit code', async () => {
      const c = await manager.create({ image: 'busybox', cmd: ['sh', '-c', "trap 'exit 4' TERM; while true; do sleep 0.1; done"] });
      await manager.start(c.id);
      const rt = await createRuntime({ name, root: `${dirs.dir}/run/${name}` });
      const st = await rt.state(c.id);
      assert.equal(st?.status, 'running');
      assert.equal(st?.pid, (await manager.inspect(c.id)).state.pid);
      await rt.pause(c.id);
      assert.equal((await rt.state(c.id))?.status, 'paused');
      await rt.resume(c.id);
      assert.deepEqual(await manager.execCollect(c.id, { cmd: ['sh', '-c', 'echo in; exit 2'] }), { exitCode: 2, stdout: 'in\n', stderr: '' });
      await manager.stop(c.id, { timeout: 5 });
      assert.deepEqual(await manager.wait(c.id), { exitCode: 4 });
      // The shim deleted the runtime's state after the exit.
      for (let i = 0; i < 50 && (await rt.state(c.id)) !== undefined; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(await rt.state(c.id), undefined);
    });
  });
}
