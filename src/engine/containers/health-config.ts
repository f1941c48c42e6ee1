/**
 * A container's effective healthcheck: its create request's over its image's
 * HEALTHCHECK, field by field (as Docker merges them at create), checked as
 * Docker's API checks it, and the argv a probe runs. Pure functions.
 */
import type { HealthcheckConfig } from '../../api/types/containers';
import type { ImageRuntimeConfig } from '../../api/types/oci';
import { BerthError } from '../../common/errors';

export const NS_PER_MS = 1_000_000;

/** Docker's defaults (daemon/health.go; the start interval since Engine 25). */
export const HEALTH_DEFAULTS = { interval: 30_000 * NS_PER_MS, timeout: 30_000 * NS_PER_MS, startPeriod: 0, startInterval: 5_000 * NS_PER_MS, retries: 3 } as const;

/** Docker's API refuses durations under 1ms (other than 0, the default). */
const MIN_DURATION_NS = NS_PER_MS;

/** A Docker-cased healthcheck (an image's HEALTHCHECK, a create request's) as the engine's. */
export interface DockerCasedHealthcheck {
  readonly Test?: readonly string[] | null;
  readonly Interval?: number;
  readonly Timeout?: number;
  readonly StartPeriod?: number;
  readonly StartInterval?: number;
  readonly Retries?: number;
}

/**
 * A Docker-cased healthcheck in the engine's terms, zero fields left out. An
 * empty Test is kept (an image's: it inherits) unless `dropEmptyTest` (a
 * create request's: it means "not set").
 */
export function fromDockerCased(h: DockerCasedHealthcheck | null | undefined, dropEmptyTest = false): HealthcheckConfig | undefined {
  if (!h) return undefined;
  return {
    ...(h.Test && (h.Test.length > 0 || !dropEmptyTest) ? { test: [...h.Test] } : {}),
    ...(h.Interval ? { interval: h.Interval } : {}),
    ...(h.Timeout ? { timeout: h.Timeout } : {}),
    ...(h.StartPeriod ? { startPeriod: h.StartPeriod } : {}),
    ...(h.StartInterval ? { startInterval: h.StartInterval } : {}),
    ...(h.Retries ? { retries: h.Retries } : {}),
  };
}

/** Throws invalid_argument where Docker's API would refuse the healthcheck. */
export function validateHealthcheck(h: HealthcheckConfig | undefined): void {
  if (!h) return;
  const durations = [
    ['Interval', h.interval],
    ['Timeout', h.timeout],
    ['StartPeriod', h.startPeriod],
    ['StartInterval', h.startInterval],
  ] as const;
  for (const [name, ns] of durations) {
    if (ns === undefined || ns === 0) continue;
    if (!Number.isFinite(ns) || ns < MIN_DURATION_NS) throw new BerthError('invalid_argument', `${name} in Healthcheck cannot be less than 1ms`);
  }
  if (h.retries !== undefined && (!Number.isInteger(h.retries) || h.retries < 0)) throw new BerthError('invalid_argument', 'Retries in Healthcheck cannot be negative');
}

/** Docker's merge: the request's fields win; the image fills those the request leaves empty (0 counts as empty). */
export function effectiveHealthcheck(request: HealthcheckConfig | undefined, image: ImageRuntimeConfig['Healthcheck'] | undefined): HealthcheckConfig | undefined {
  validateHealthcheck(request);
  const base = fromDockerCased(image);
  if (!request) return base;
  if (!base) return request;
  const pick = <K extends keyof HealthcheckConfig>(k: K): Partial<HealthcheckConfig> => {
    const own = request[k];
    const empty = own === undefined || own === 0 || (Array.isArray(own) && own.length === 0);
    const v = empty ? base[k] : own;
    return v === undefined ? {} : { [k]: v };
  };
  return { ...pick('test'), ...pick('interval'), ...pick('timeout'), ...pick('startPeriod'), ...pick('startInterval'), ...pick('retries') };
}

/** The probe's argv, or undefined when there is nothing to run (no test, NONE, or an unknown kind). */
export function probeArgv(h: HealthcheckConfig | undefined): string[] | undefined {
  const [kind, ...rest] = h?.test ?? [];
  if (kind === 'CMD' && rest.length > 0) return rest;
  // Docker joins nothing: CMD-SHELL carries one script; more words are passed on as the shell's $0, $1...
  if (kind === 'CMD-SHELL' && rest.length > 0) return ['/bin/sh', '-c', ...rest];
  return undefined;
}

/** The timings in milliseconds, with Docker's defaults. */
export function healthTimings(h: HealthcheckConfig): { intervalMs: number; timeoutMs: number; startPeriodMs: number; startIntervalMs: number; retries: number } {
  const ms = (ns: number | undefined, dflt: number): number => (ns ? ns : dflt) / NS_PER_MS;
  return {
    intervalMs: ms(h.interval, HEALTH_DEFAULTS.interval),
    timeoutMs: ms(h.timeout, HEALTH_DEFAULTS.timeout),
    startPeriodMs: ms(h.startPeriod, HEALTH_DEFAULTS.startPeriod),
    startIntervalMs: ms(h.startInterval, HEALTH_DEFAULTS.startInterval),
    retries: h.retries && h.retries > 0 ? h.retries : HEALTH_DEFAULTS.retries,
  };
}

/** A duration as Go prints it ("30s", "1.5s", "200ms", "1m30s"), for Docker's timeout message. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  if (ns < 1_000) return `${ns}ns`;
  if (ns < 1_000_000) return `${trim(ns / 1_000)}µs`;
  if (ns < 1_000_000_000) return `${trim(ns / 1_000_000)}ms`;
  const h = Math.floor(ns / 3_600_000_000_000);
  const m = Math.floor((ns % 3_600_000_000_000) / 60_000_000_000);
  const s = (ns % 60_000_000_000) / 1_000_000_000;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${trim(s)}s`;
}

function trim(n: number): string {
  return String(Number(n.toFixed(9)));
}
