/**
 * reconcile: at startup, brings every record in line with reality. A running
 * record whose shim wrote an exit file exited with that code; one whose shim
 * still answers is running (and monitored again); one whose shim is gone is
 * killed and marked exited, since nothing can collect its exit any more.
 */
import type { ContainerRecord } from '../../api/types/containers';
import { shimAlive } from '../shim/attach-client';
import { readExit } from '../shim/protocol';
import { containerPaths, isActive, withState, runtimeOf, type ManagerContext } from './context';
import { removeLocked } from './remove';
import { ensureRootfs } from './start';
import { watchHealth } from './health-monitor';
import { monitor, recordExit } from './wait';

export interface ReconcileSummary {
  readonly running: number;
  readonly exited: number;
  readonly lost: number;
  readonly removed: number;
}

async function reconcileOne(ctx: ManagerContext, record: ContainerRecord): Promise<'running' | 'exited' | 'lost' | 'removed' | 'other'> {
  const paths = containerPaths(ctx.options, record.id);
  const log = ctx.options.logger.child({ id: record.id });
  if (record.state.status === 'removing') {
    await removeLocked(ctx, withState(record, { status: 'dead' }), { force: true });
    return 'removed';
  }
  await ensureRootfs(ctx, record.id).catch((err: unknown) => log.warn('cannot mount the rootfs', { error: String(err) }));
  if (!isActive(record)) {
    if (record.request.autoRemove && record.state.status === 'exited') {
      await removeLocked(ctx, record, { force: true, volumes: true });
      return 'removed';
    }
    return 'other';
  }
  const exit = await readExit(paths.exitFile);
  if (exit) {
    await recordExit(ctx, record.id, record.state.startedAt, exit);
    if (record.request.autoRemove) await removeLocked(ctx, ctx.store.get(record.id) ?? record, { force: true, volumes: true });
    return 'exited';
  }
  if (await shimAlive(paths.attachSocket)) {
    monitor(ctx, record.id, record.state.startedAt);
    watchHealth(ctx, record.id, record.state.startedAt);
    // It may have exited between the two checks.
    return 'running';
  }
  // The shim is gone without an exit file: the exit status is lost. Make sure nothing is left running.
  const state = await runtimeOf(ctx, record).state(record.id).catch(() => undefined);
  if (state && state.status !== 'stopped') await runtimeOf(ctx, record).kill(record.id, 'KILL', { all: true }).catch(() => undefined);
  await runtimeOf(ctx, record).delete(record.id, { force: true }).catch(() => undefined);
  await ctx.store.save(withState(record.network ? { ...record, network: { ...record.network, boundPorts: [] } } : record, { status: 'exited', exitCode: 255, pid: 0, finishedAt: new Date().toISOString(), error: 'the container supervisor (berth-shim) disappeared; exit status unknown' }));
  log.warn('container supervisor disappeared; marked exited');
  return 'lost';
}

export async function reconcile(ctx: ManagerContext): Promise<ReconcileSummary> {
  const records = await ctx.store.load();
  const counts = { running: 0, exited: 0, lost: 0, removed: 0, other: 0 };
  await Promise.all(
    records.map((r) =>
      ctx.mutex.run(r.id, async () => {
        try {
          counts[await reconcileOne(ctx, r)]++;
        } catch (err) {
          ctx.options.logger.warn('cannot reconcile container', { id: r.id, error: String(err) });
        }
      }),
    ),
  );
  await ctx.options.network?.reconcile().catch((err: unknown) => ctx.options.logger.warn('cannot reconcile networking', { error: String(err) }));
  const { running, exited, lost, removed } = counts;
  return { running, exited, lost, removed };
}
