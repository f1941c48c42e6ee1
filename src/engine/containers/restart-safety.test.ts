/**
 * A SIGKILL of the manager's process leaves containers running; a new
 * manager reconciles: still running, or exited (with its code) meanwhile.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { ContainerManager } from './manager';
import { cleanupDirs, createDirs, createManager, type FixtureDirs } from './testing';

let dirs: FixtureDirs;
let manager: ContainerManager | undefined;

before(async () => {
  dirs = await createDirs();
});

after(async () => {
  for (const c of (await manager?.list({ all: true })) ?? []) await manager?.remove(c.id, { force: true }).catch(() => undefined);
  manager?.dispose();
  await cleanupDirs(dirs);
});

test('SIGKILL of the manager: containers survive and reconcile', { timeout: 60_000 }, async () => {
  const specs = [
    { name: 'survivor', cmd: ['sh', '-c', "trap 'exit 7' TERM; echo up; while true; do sleep 0.1; done"] },
    { name: 'finisher', cmd: ['sh', '-c', 'sleep 1; exit 9'] },
  ];
  const child = spawn(process.execPath, [path.join(__dirname, 'testing-child.js'), JSON.stringify(dirs), JSON.stringify(specs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('"ready":true')) resolve();
      });
      child.once('exit', () => reject(new Error('the manager process died before it was ready')));
    });
  } finally {
    child.kill('SIGKILL');
  }
  assert.equal(await exited, 'SIGKILL');
  // "finisher" exits while no manager runs.
  await new Promise((r) => setTimeout(r, 1500));
  const m = await createManager(dirs);
  manager = m.manager;
  const summary = await manager.reconcile();
  assert.deepEqual(summary, { running: 1, exited: 1, lost: 0, removed: 0 });
  const survivor = await manager.inspect('survivor');
  assert.equal(survivor.state.status, 'running');
  process.kill(survivor.state.pid, 0);
  const finisher = await manager.inspect('finisher');
  assert.equal(finisher.state.status, 'exited');
  assert.equal(finisher.state.exitCode, 9);
  // The new manager controls the survivor: logs, exec, stop with its exit code.
  const lines: string[] = [];
  for await (const l of manager.logs('survivor')) lines.push(l.line);
  assert.deepEqual(lines, ['up']);
  assert.equal((await manager.execCollect('survivor', { cmd: ['echo', 'still here'] })).stdout, 'still here\n');
  await manager.stop('survivor', { timeout: 5 });
  assert.deepEqual(await manager.wait('survivor'), { exitCode: 7 });
  assert.equal((await manager.inspect('survivor')).state.exitCode, 7);
});
