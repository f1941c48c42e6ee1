/**
 * stop and kill. stop sends the stop signal, then SIGKILL to every process of
 * the container after the timeout; the caller holds the container's lock.
 * kill does not take the lock, so it can cut a stop's wait short.
 */
import type { ContainerRecord } from '../../api/types/containers';
import { timeoutSignal } from '../../common/abort';
import { BerthError } from '../../common/errors';
import { eventAttributes, isActive, runtimeOf, type ManagerContext } from './context';
import { assertCanKill, assertCanStop } from './state';
import { waitExit } from './wait';

export async function signalContainer(ctx: ManagerContext, record: ContainerRecord, signal: string, all = false): Promise<void> {
  try {
    await runtimeOf(ctx, record).kill(record.id, signal, { all });
  } catch (err) {
    // It exited meanwhile: the monitor records that.
    if (!BerthError.is(err, 'not_found') && !BerthError.is(err, 'failed_precondition')) throw err;
  }
}

export async function killContainer(ctx: ManagerContext, record: ContainerRecord, signal = 'SIGKILL'): Promise<void> {
  assertCanKill(record);
  await signalContainer(ctx, record, signal);
  ctx.options.events.emit({ type: 'container', action: 'kill', id: record.id, attributes: eventAttributes(record, { signal }) });
}

/** Kills everything in the container and waits for the exit (bounded). */
export async function forceKill(ctx: ManagerContext, record: ContainerRecord): Promise<void> {
  await signalContainer(ctx, record, 'KILL', true);
  await waitExit(ctx, record.id, { signal: AbortSignal.timeout(30_000) });
}

export async function stopLocked(ctx: ManagerContext, record: ContainerRecord, options: { timeout?: number; signal?: AbortSignal } = {}): Promise<void> {
  assertCanStop(record);
  if (!isActive(record)) return;
  if (record.state.status === 'paused') await runtimeOf(ctx, record).resume(record.id).catch(() => undefined);
  const timeout = Math.max(0, options.timeout ?? record.request.stopTimeout ?? 10);
  const stopSignal = record.request.stopSignal ?? 'SIGTERM';
  await signalContainer(ctx, record, stopSignal);
  ctx.options.events.emit({ type: 'container', action: 'kill', id: record.id, attributes: eventAttributes(record, { signal: stopSignal }) });
  const graceful = await waitExit(ctx, record.id, { signal: timeoutSignal(timeout * 1000, options.signal) }).then(
    () => true,
    () => false,
  );
  options.signal?.throwIfAborted();
  if (!graceful) {
    ctx.options.logger.info('container did not stop in time; killing it', { id: record.id, timeout });
    await forceKill(ctx, record);
  }
  ctx.options.events.emit({ type: 'container', action: 'stop', id: record.id, attributes: eventAttributes(record) });
}
