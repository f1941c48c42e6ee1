/**
 * The health monitor of a running container: after each interval it runs the
 * healthcheck's test through the exec path (killed at the timeout), records
 * the result in the container's State.Health and emits `health_status: ...`
 * when the status changes. One per container run, kept in the manager's
 * context (`ctx.health`); stopped when the container exits or is removed and
 * when the daemon shuts down; started again for running containers at
 * reconcile (the status and streak carry over).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerRecord, HealthcheckConfig, HealthLogEntry } from '../../api/types/containers';
import { timeoutSignal } from '../../common/abort';
import { eventAttributes, withState, type ManagerContext } from './context';
import { execInContainer, type ExecSession } from './exec';
import { goDuration, healthTimings, probeArgv } from './health-config';
import { applyProbe, LimitedOutput, nextDelayMs } from './health-state';

/** Docker's bound on starting the probe's exec (which does not count towards the timeout). */
const EXEC_START_TIMEOUT_MS = 30_000;
/** How long a killed probe may take to go away before the monitor moves on without it. */
const KILL_GRACE_MS = 10_000;

/** Starts the monitor of a container's run (replacing any earlier one); nothing when it has no healthcheck to run. */
export function watchHealth(ctx: ManagerContext, id: string, startedAt: string): void {
  stopHealth(ctx, id);
  const config = ctx.store.get(id)?.request.healthcheck;
  const argv = probeArgv(config);
  if (!config || !argv) return;
  const controller = new AbortController();
  ctx.health.set(id, controller);
  runMonitor(ctx, id, startedAt, config, argv, controller.signal)
    .catch((err: unknown) => {
      if (!controller.signal.aborted) ctx.options.logger.warn('health monitor stopped', { id, error: String(err) });
    })
    .finally(() => {
      if (ctx.health.get(id) === controller) ctx.health.delete(id);
    });
}

export function stopHealth(ctx: ManagerContext, id: string): void {
  ctx.health.get(id)?.abort();
  ctx.health.delete(id);
}

/** The record while it is still the run being watched. */
function current(ctx: ManagerContext, id: string, startedAt: string): ContainerRecord | undefined {
  const r = ctx.store.get(id);
  return r && (r.state.status === 'running' || r.state.status === 'paused') && r.state.startedAt === startedAt ? r : undefined;
}

async function runMonitor(ctx: ManagerContext, id: string, startedAt: string, config: HealthcheckConfig, argv: readonly string[], signal: AbortSignal): Promise<void> {
  const t = healthTimings(config);
  for (;;) {
    const before = current(ctx, id, startedAt);
    if (!before) return;
    // A real timer (not AbortSignal.timeout, which the GC may take): it fires; unref'd, it keeps no process alive.
    await sleep(nextDelayMs(before.state.health, { startedAt, now: Date.now(), ...t }), undefined, { signal, ref: false });
    const record = current(ctx, id, startedAt);
    if (!record) return;
    if (record.state.status === 'paused') continue;
    const result = await runProbe(ctx, record, argv, config.timeout, t.timeoutMs, signal);
    // A probe cut short by the monitor's stop is not recorded (as Docker).
    if (signal.aborted) return;
    const latest = current(ctx, id, startedAt);
    if (!latest?.state.health) return;
    const { health, changed } = applyProbe(latest.state.health, result, { startedAt, startPeriodMs: t.startPeriodMs, retries: t.retries });
    await ctx.store.save(withState(latest, { health }));
    if (changed === 'healthy' || changed === 'unhealthy') ctx.options.events.emit({ type: 'container', action: `health_status: ${changed}`, id, attributes: eventAttributes(latest) });
  }
}

/** One probe: the test run in the container, its exit code and first 4096 bytes of output; -1 when it timed out or could not run. */
async function runProbe(ctx: ManagerContext, record: ContainerRecord, argv: readonly string[], timeoutNs: number | undefined, timeoutMs: number, signal: AbortSignal): Promise<HealthLogEntry> {
  const start = new Date().toISOString();
  const entry = (exitCode: number, output: string): HealthLogEntry => ({ start, end: new Date().toISOString(), exitCode, output });
  let session: ExecSession;
  try {
    session = await execInContainer(ctx, record, { cmd: argv }, { signal: timeoutSignal(EXEC_START_TIMEOUT_MS, signal) });
  } catch (err) {
    return entry(-1, err instanceof Error ? err.message : String(err));
  }
  const output = new LimitedOutput();
  let timedOut = false;
  let graceTimer: NodeJS.Timeout | undefined;
  let giveUp: (value: undefined) => void = () => undefined;
  const gaveUp = new Promise<undefined>((resolve) => (giveUp = resolve));
  const kill = (): void => {
    session.kill(9);
    graceTimer ??= setTimeout(() => giveUp(undefined), KILL_GRACE_MS);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, timeoutMs);
  signal.addEventListener('abort', kill, { once: true });
  try {
    const collected = (async (): Promise<number> => {
      for await (const chunk of session.output()) output.write(chunk.data);
      return session.exit;
    })();
    const exitCode = await Promise.race([collected, gaveUp]);
    if (timedOut) {
      const limit = goDuration(timeoutNs ?? timeoutMs * 1_000_000);
      return entry(-1, output.empty ? `Health check exceeded timeout (${limit})` : `Health check exceeded timeout (${limit}): ${output.toString()}`);
    }
    return entry(exitCode ?? -1, output.toString());
  } finally {
    clearTimeout(timer);
    clearTimeout(graceTimer);
    signal.removeEventListener('abort', kill);
  }
}
