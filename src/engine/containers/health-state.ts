/**
 * Health state transitions, as Docker's daemon makes them (daemon/health.go):
 * a start resets the status to "starting" (the log stays); a passing probe
 * makes the container healthy and ends the start period; a failing one counts
 * towards `retries` unless it started within the start period while the
 * container is still starting. Pure functions.
 */
import type { HealthLogEntry, HealthState, HealthStatus } from '../../api/types/containers';

export const MAX_LOG_ENTRIES = 5;
export const MAX_OUTPUT_BYTES = 4096;

/** The state at a (re)start: starting, no failures, the earlier probes kept. */
export function startingHealth(previous: HealthState | undefined): HealthState {
  return { status: 'starting', failingStreak: 0, log: previous?.log ?? [] };
}

export interface ProbeRules {
  /** The container's start (RFC 3339). */
  readonly startedAt: string;
  readonly startPeriodMs: number;
  readonly retries: number;
}

/** The state after one probe; `changed` names the new status when it differs (the event to emit). */
export function applyProbe(health: HealthState, result: HealthLogEntry, rules: ProbeRules): { health: HealthState; changed?: HealthStatus } {
  const log = [...health.log, result].slice(-MAX_LOG_ENTRIES);
  let { status, failingStreak } = health;
  if (result.exitCode === 0) {
    failingStreak = 0;
    status = 'healthy';
  } else {
    const inStartPeriod = status === 'starting' && Date.parse(result.start) - Date.parse(rules.startedAt) < rules.startPeriodMs;
    if (!inStartPeriod) {
      failingStreak++;
      if (failingStreak >= Math.max(rules.retries, 1)) status = 'unhealthy';
    }
  }
  const next: HealthState = { status, failingStreak, log };
  return status === health.status ? { health: next } : { health: next, changed: status };
}

/** How long to wait before the next probe: the start interval while starting within the start period, else the interval. */
export function nextDelayMs(health: HealthState | undefined, t: { startedAt: string; now: number; intervalMs: number; startIntervalMs: number; startPeriodMs: number }): number {
  if (t.now - Date.parse(t.startedAt) >= t.startPeriodMs) return t.intervalMs;
  return health?.status === 'starting' ? t.startIntervalMs : t.intervalMs;
}

/** Docker's limitedBuffer: the first 4096 bytes of the output, "..." appended when more came. */
export class LimitedOutput {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private truncated = false;

  write(data: Buffer): void {
    const keep = Math.min(MAX_OUTPUT_BYTES - this.size, data.length);
    if (keep > 0) {
      this.chunks.push(data.subarray(0, keep));
      this.size += keep;
    }
    if (keep < data.length) this.truncated = true;
  }

  get empty(): boolean {
    return this.size === 0;
  }

  toString(): string {
    return Buffer.concat(this.chunks).toString('utf8') + (this.truncated ? '...' : '');
  }
}

/** Docker's `docker ps` words for a health status. */
export function healthText(status: HealthStatus): string {
  return status === 'starting' ? 'health: starting' : status;
}
