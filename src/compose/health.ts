/**
 * Healthchecks, run from the Compose layer: the service's `healthcheck`
 * (or its image's HEALTHCHECK) executed in the container until it passes
 * (healthy) or fails `retries` times after the start period (unhealthy).
 * `depends_on: {condition: service_healthy}` waits on this. An engine that
 * keeps the container's health itself (State.Health: berthd, Docker) is
 * watched instead; probes run here only where the engine reports none.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiClient } from '../api/client';
import type { ImageRuntimeConfig } from '../api/types/oci';
import { timeoutSignal } from '../common/abort';
import { BerthError } from '../common/errors';
import type { Logger } from '../common/log';
import type { Healthcheck } from './types';

const NS_PER_MS = 1e6;

/** The image's HEALTHCHECK in Compose's terms (durations in ns there). */
export function imageHealthcheck(config: ImageRuntimeConfig | undefined): Healthcheck | undefined {
  const h = config?.Healthcheck;
  if (!h?.Test || h.Test.length === 0) return undefined;
  const ms = (ns: number | undefined, dflt: number): number => (ns ? ns / NS_PER_MS : dflt);
  return { test: h.Test, intervalMs: ms(h.Interval, 30_000), timeoutMs: ms(h.Timeout, 30_000), retries: h.Retries || 3, startPeriodMs: ms(h.StartPeriod, 0), startIntervalMs: 5_000 };
}

export function healthArgv(test: readonly string[]): string[] | undefined {
  const [kind, ...rest] = test;
  if (kind === 'CMD') return rest;
  if (kind === 'CMD-SHELL') return ['/bin/sh', '-c', rest.join(' ')];
  return undefined;
}

async function probe(api: ApiClient, id: string, argv: readonly string[], timeoutMs: number, signal?: AbortSignal): Promise<{ ok: boolean; output: string }> {
  const both = timeoutSignal(Math.max(timeoutMs, 1), signal);
  let output = '';
  let exitCode = -1;
  try {
    for await (const m of api.stream('containerExec', { params: { id }, body: { cmd: argv }, signal: both })) {
      if ('exitCode' in m) exitCode = m.exitCode;
      else output = (output + m.text).slice(-2048);
    }
  } catch (err) {
    if (signal?.aborted) throw err;
    if (both.aborted) return { ok: false, output: `health check timed out after ${timeoutMs} ms` };
    return { ok: false, output: (err as Error).message };
  }
  return { ok: exitCode === 0, output };
}

/** How often the engine's health state is looked at. */
const ENGINE_POLL_MS = 200;

/** Waits on the health the engine keeps; false when it keeps none for this container (then the caller probes). */
async function engineHealthy(o: { api: ApiClient; containerId: string; service: string; logger: Logger; signal?: AbortSignal }): Promise<boolean> {
  const s = o.signal ? { signal: o.signal } : {};
  for (let first = true; ; first = false) {
    const { state } = await o.api.call('containerInspect', { params: { id: o.containerId }, ...s });
    if (!state.health) {
      if (first) return false;
      throw new BerthError('failed_precondition', `service ${o.service} exited (code ${state.exitCode}) before it became healthy`);
    }
    if (state.status !== 'running') throw new BerthError('failed_precondition', `service ${o.service} exited (code ${state.exitCode}) before it became healthy`);
    if (state.health.status === 'healthy') {
      o.logger.info(`${o.service} is healthy (the engine's health check)`);
      return true;
    }
    if (state.health.status === 'unhealthy') {
      const last = state.health.log.at(-1)?.output.trim();
      throw new BerthError('failed_precondition', `service ${o.service} is unhealthy: the engine's health check failed ${state.health.failingStreak} times${last ? `: ${last}` : ''}`);
    }
    await sleep(ENGINE_POLL_MS, undefined, s);
  }
}

/** Resolves once the container is healthy; throws when it is unhealthy or stopped. */
export async function waitHealthy(o: { api: ApiClient; containerId: string; service: string; healthcheck: Healthcheck; logger: Logger; signal?: AbortSignal }): Promise<void> {
  if (await engineHealthy(o)) return;
  const argv = healthArgv(o.healthcheck.test);
  if (!argv) throw new BerthError('failed_precondition', `service ${o.service} has no healthcheck, so it cannot become healthy`);
  const s = o.signal ? { signal: o.signal } : {};
  const started = Date.now();
  let failures = 0;
  for (;;) {
    const r = await probe(o.api, o.containerId, argv, o.healthcheck.timeoutMs, o.signal);
    if (r.ok) {
      o.logger.info(`${o.service} is healthy`);
      return;
    }
    const inStartPeriod = Date.now() - started < o.healthcheck.startPeriodMs;
    if (!inStartPeriod) failures++;
    const state = (await o.api.call('containerInspect', { params: { id: o.containerId }, ...s })).state;
    if (state.status !== 'running') throw new BerthError('failed_precondition', `service ${o.service} exited (code ${state.exitCode}) before it became healthy`);
    if (failures >= Math.max(o.healthcheck.retries, 1)) {
      throw new BerthError('failed_precondition', `service ${o.service} is unhealthy: ${argv.join(' ')} failed ${failures} times${r.output.trim() ? `: ${r.output.trim()}` : ''}`);
    }
    o.logger.debug(`${o.service}: health check failed (${failures}/${o.healthcheck.retries})`);
    await sleep(inStartPeriod ? Math.min(o.healthcheck.startIntervalMs, o.healthcheck.intervalMs) : o.healthcheck.intervalMs, undefined, s);
  }
}
