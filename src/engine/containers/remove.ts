/**
 * remove: (force: kill first) the runtime state, the rootfs mount, the
 * snapshot, the bundle and the record; then, with `volumes`, the container's
 * anonymous volumes (the mount resolver's business).
 * The caller holds the container's lock.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { ContainerRecord } from '../../api/types/containers';
import { BerthError } from '../../common/errors';
import { pathExists } from '../../common/path-exists';
import { unmount } from '../snapshots/mount';
import { containerPaths, eventAttributes, isActive, snapshotKey, withState, runtimeOf, type ManagerContext } from './context';
import { assertCanRemove } from './state';
import { stopHealth } from './health-monitor';
import { forceKill } from './stop';

export async function removeLocked(ctx: ManagerContext, record: ContainerRecord, options: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
  assertCanRemove(record, options.force === true);
  if (isActive(record)) await forceKill(ctx, record);
  const current = ctx.store.get(record.id) ?? record;
  await ctx.store.save(withState(current, { status: 'removing' }));
  ctx.monitors.get(record.id)?.abort();
  ctx.monitors.delete(record.id);
  stopHealth(ctx, record.id);
  const paths = containerPaths(ctx.options, record.id);
  try {
    // The shim deletes the runtime's state once the container exits: only a state left behind (or a running container's) needs the runtime (four processes under crun on a hybrid host).
    const runtime = runtimeOf(ctx, record);
    if (await pathExists(path.join(runtime.root, record.id))) await runtime.delete(record.id, { force: true });
    await unmount(paths.rootfs);
    await ctx.options.snapshotter.remove(snapshotKey(record.id)).catch((err: unknown) => {
      if (!BerthError.is(err, 'not_found')) throw err;
    });
  } catch (err) {
    await ctx.store.save(withState(current, { status: 'dead', error: err instanceof Error ? err.message : String(err) }));
    throw err;
  }
  await Promise.all([rm(paths.attachSocket, { force: true }), rm(paths.consoleSocket, { force: true })]);
  await ctx.store.delete(record.id);
  try {
    await ctx.options.network?.release(record.id, current.network);
    await ctx.options.network?.changed();
  } catch (err) {
    ctx.options.logger.warn('cannot release the container network', { id: record.id, error: String(err) });
  }
  try {
    await ctx.options.mounts?.removed(current, { removeVolumes: options.volumes === true });
  } finally {
    ctx.options.events.emit({ type: 'container', action: 'destroy', id: record.id, attributes: eventAttributes(record) });
  }
}
