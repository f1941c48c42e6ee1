/**
 * start: launches berth-shim for the container and waits until the runtime
 * runs its process (or reports why not). The caller holds the container's lock.
 */
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ContainerRecord } from '../../api/types/containers';
import { BerthError } from '../../common/errors';
import { launchShim } from '../shim/launch';
import { mountAll } from '../snapshots/mount';
import { containerPaths, eventAttributes, isActive, nowIso, snapshotKey, withState, runtimeOf, type ManagerContext } from './context';
import { assertCanStart } from './state';
import { probeArgv } from './health-config';
import { watchHealth } from './health-monitor';
import { startingHealth } from './health-state';
import { monitor } from './wait';

/** Mounts the rootfs again when it is not mounted (after a reboot). */
export async function ensureRootfs(ctx: ManagerContext, id: string, options: { signal?: AbortSignal } = {}): Promise<void> {
  const rootfs = containerPaths(ctx.options, id).rootfs;
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  if (mountinfo.split('\n').some((l) => l.split(' ')[4] === rootfs)) return;
  await mountAll(await ctx.options.snapshotter.mounts(snapshotKey(id)), rootfs, options);
}

export async function startLocked(ctx: ManagerContext, record: ContainerRecord, options: { signal?: AbortSignal } = {}): Promise<ContainerRecord> {
  assertCanStart(record);
  // An exit recorded a moment ago may still be taking the network down (the same netns path): let it finish first.
  if (!isActive(record)) await ctx.exits.get(record.id)?.catch(() => undefined);
  const paths = containerPaths(ctx.options, record.id);
  await Promise.all([rm(paths.exitFile, { force: true }), rm(paths.pidFile, { force: true })]);
  // A runtime state left by a run whose shim died.
  if (existsSync(path.join(runtimeOf(ctx, record).root, record.id))) await runtimeOf(ctx, record).delete(record.id, { force: true, ...options });
  await ensureRootfs(ctx, record.id, options);
  const tty = record.request.tty === true;
  const startedAt = nowIso();
  let pid: number;
  let network = record.network;
  try {
    network = (await ctx.options.network?.up(record, options)) ?? network;
    // Peers and the container's own /etc/hosts, before its process runs.
    await ctx.options.network?.changed({ ...record, ...(network ? { network } : {}) });
    ({ pid } = await launchShim(
      {
        shim: ctx.options.shim,
        runtime: runtimeOf(ctx, record),
        id: record.id,
        bundle: paths.bundle,
        pidFile: paths.pidFile,
        exitFile: paths.exitFile,
        attachSocket: paths.attachSocket,
        consoleSocket: paths.consoleSocket,
        logFile: paths.log,
        tty,
        openStdin: record.request.openStdin === true,
      },
      options,
    ));
  } catch (err) {
    await ctx.options.network?.down(record).catch(() => undefined);
    await ctx.options.network?.changed().catch(() => undefined);
    const message = err instanceof Error ? err.message : String(err);
    const exitCode = /not found|no such file/i.test(message) ? 127 : /permission denied/i.test(message) ? 126 : 128;
    await ctx.store.save(withState(record, { status: record.state.status === 'created' ? 'created' : 'exited', exitCode, error: message, pid: 0 }));
    throw new BerthError(BerthError.is(err, 'cancelled') ? 'cancelled' : 'failed_precondition', `cannot start container ${record.name}: ${message}`, { cause: err });
  }
  const health = probeArgv(record.request.healthcheck) ? { health: startingHealth(record.state.health) } : {};
  const running = withState({ ...record, ...(network ? { network } : {}) }, { status: 'running', pid, startedAt, finishedAt: '', exitCode: 0, error: '', oomKilled: false, ...health });
  await ctx.store.save(running);
  monitor(ctx, record.id, startedAt);
  watchHealth(ctx, record.id, startedAt);
  ctx.options.events.emit({ type: 'container', action: 'start', id: record.id, attributes: eventAttributes(record) });
  return running;
}
