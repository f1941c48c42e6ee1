/**
 * Exits: every running container has a monitor that watches for the shim's
 * exit file (so it works for containers started by an earlier daemon), then
 * records the exit, emits "die", and removes auto-remove containers.
 */
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { ContainerRecord } from '../../api/types/containers';
import { BerthError } from '../../common/errors';
import { readExit, type ExitStatus } from '../shim/protocol';
import { stopHealth } from './health-monitor';
import { containerPaths, eventAttributes, isActive, withState, type ManagerContext } from './context';

const POLL_MS = 500;

/** Resolves with the exit file's content once it exists. */
export function waitForExitFile(file: string, options: { signal?: AbortSignal } = {}): Promise<ExitStatus> {
  return new Promise((resolve, reject) => {
    let watcher: FSWatcher | undefined;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (result: ExitStatus | Error): void => {
      if (done) return;
      done = true;
      watcher?.close();
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const check = (): void => {
      readExit(file).then(
        (exit) => {
          if (exit) finish(exit);
          else if (!done) timer = setTimeout(check, POLL_MS);
        },
        (err: unknown) => finish(err instanceof Error ? err : new Error(String(err))),
      );
    };
    const onAbort = (): void => finish(new BerthError('cancelled', 'wait cancelled'));
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      watcher = watch(path.dirname(file), (_event, name) => {
        if (name === path.basename(file)) {
          clearTimeout(timer);
          check();
        }
      });
      watcher.on('error', () => undefined);
    } catch {
      /* no inotify: polling alone */
    }
    check();
  });
}

/** Starts watching a running container for its exit; `exits` answers waiters. */
export function monitor(ctx: ManagerContext, id: string, startedAt: string): void {
  ctx.monitors.get(id)?.abort();
  const controller = new AbortController();
  ctx.monitors.set(id, controller);
  const exited = waitForExitFile(containerPaths(ctx.options, id).exitFile, { signal: controller.signal }).then(async (exit) => {
    if (ctx.monitors.get(id) === controller) ctx.monitors.delete(id);
    await recordExit(ctx, id, startedAt, exit);
    ctx.afterExit(id);
    return exit;
  });
  ctx.exits.set(id, exited);
  exited.catch(() => undefined).finally(() => {
    if (ctx.exits.get(id) === exited) ctx.exits.delete(id);
  });
}

/** Records an exit once: only if the record is still the run that started at `startedAt`. */
export async function recordExit(ctx: ManagerContext, id: string, startedAt: string, exit: ExitStatus): Promise<void> {
  const record = ctx.store.get(id);
  if (!record || !isActive(record) || record.state.startedAt !== startedAt) return;
  stopHealth(ctx, id);
  const updated = withState(record.network ? { ...record, network: { ...record.network, boundPorts: [] } } : record, { status: 'exited', exitCode: exit.exitCode, pid: 0, finishedAt: exit.finishedAt });
  await ctx.store.save(updated);
  await networkDown(ctx, record);
  ctx.options.events.emit({ type: 'container', action: 'die', id, attributes: eventAttributes(record, { exitCode: String(exit.exitCode) }) });
  ctx.options.logger.debug('container exited', { id, exitCode: exit.exitCode });
}

/** Takes the container's network down after its exit, and tells its peers. */
export async function networkDown(ctx: ManagerContext, record: ContainerRecord): Promise<void> {
  try {
    await ctx.options.network?.down(record);
    await ctx.options.network?.changed();
  } catch (err) {
    ctx.options.logger.warn('cannot take the container network down', { id: record.id, error: String(err) });
  }
}

/** Waits until the container is not running and answers its exit code. */
export async function waitExit(ctx: ManagerContext, id: string, options: { signal?: AbortSignal } = {}): Promise<{ exitCode: number }> {
  for (;;) {
    options.signal?.throwIfAborted();
    const record = ctx.store.get(id);
    if (!record) throw new BerthError('not_found', `no such container: ${id}`);
    if (!isActive(record)) return { exitCode: record.state.exitCode };
    const pending = ctx.exits.get(id);
    if (!pending) {
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    try {
      const exit = await abortable(pending, options.signal);
      if (!ctx.store.get(id)) return { exitCode: exit.exitCode };
    } catch (err) {
      if (options.signal?.aborted) throw err;
      /* the monitor was stopped (a removal): look at the record again */
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new BerthError('cancelled', 'wait cancelled'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
