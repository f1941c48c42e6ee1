import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerRecord, HealthLogEntry, HealthState } from '../../api/types/containers';
import { BerthError } from '../../common/errors';
import { dockerHealthcheck, healthcheckFromDocker, humanDuration, statusText } from '../server/docker/health-translate';
import { effectiveHealthcheck, goDuration, healthTimings, probeArgv } from './health-config';
import { applyProbe, LimitedOutput, nextDelayMs, startingHealth } from './health-state';

const S = 1_000_000_000;
const at = (ms: number): string => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();
const result = (startMs: number, exitCode: number, output = ''): HealthLogEntry => ({ start: at(startMs), end: at(startMs + 10), exitCode, output });

test('the request wins field by field over the image; 0 and [] take the image value', () => {
  const image = { Test: ['CMD-SHELL', 'true'], Interval: 5 * S, Timeout: 2 * S, Retries: 4, StartPeriod: 1 * S };
  assert.deepEqual(effectiveHealthcheck(undefined, image), { test: ['CMD-SHELL', 'true'], interval: 5 * S, timeout: 2 * S, startPeriod: 1 * S, retries: 4 });
  assert.deepEqual(effectiveHealthcheck({ interval: 1 * S, retries: 0, test: [] }, image), { test: ['CMD-SHELL', 'true'], interval: 1 * S, timeout: 2 * S, startPeriod: 1 * S, retries: 4 });
  assert.deepEqual(effectiveHealthcheck({ test: ['CMD', 'false'], startInterval: S / 2 }, undefined), { test: ['CMD', 'false'], startInterval: S / 2 });
  assert.equal(effectiveHealthcheck(undefined, undefined), undefined);
  // --no-healthcheck: NONE, and the image's timings stay (as Docker merges) but nothing runs.
  const none = effectiveHealthcheck({ test: ['NONE'] }, image);
  assert.deepEqual(none?.test, ['NONE']);
  assert.equal(probeArgv(none), undefined);
});

test('durations under 1ms and negative retries are refused as Docker refuses them', () => {
  assert.throws(() => effectiveHealthcheck({ interval: 999_999 }, undefined), (e: unknown) => BerthError.is(e, 'invalid_argument') && /Interval in Healthcheck cannot be less than 1ms/.test(e.message));
  assert.throws(() => effectiveHealthcheck({ startInterval: 5 }, undefined), /StartInterval/);
  assert.throws(() => effectiveHealthcheck({ retries: -1 }, undefined), /Retries in Healthcheck cannot be negative/);
  assert.doesNotThrow(() => effectiveHealthcheck({ interval: 1_000_000, timeout: 0 }, undefined));
});

test('probe argv: CMD as is, CMD-SHELL through /bin/sh -c, nothing for NONE or an unknown kind', () => {
  assert.deepEqual(probeArgv({ test: ['CMD', 'cat', '/x'] }), ['cat', '/x']);
  assert.deepEqual(probeArgv({ test: ['CMD-SHELL', 'test -f /x && echo ok'] }), ['/bin/sh', '-c', 'test -f /x && echo ok']);
  assert.equal(probeArgv({ test: ['NONE'] }), undefined);
  assert.equal(probeArgv({ test: ['HTTP', 'x'] }), undefined);
  assert.equal(probeArgv({}), undefined);
});

test("timings default to Docker's: 30s interval and timeout, 3 retries, no start period, 5s start interval", () => {
  assert.deepEqual(healthTimings({ test: ['CMD', 'true'] }), { intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, startIntervalMs: 5_000, retries: 3 });
  assert.deepEqual(healthTimings({ interval: S / 5, timeout: S, startPeriod: 2 * S, startInterval: S / 10, retries: 1 }), { intervalMs: 200, timeoutMs: 1000, startPeriodMs: 2000, startIntervalMs: 100, retries: 1 });
});

test('a pass makes the container healthy; failures count up to retries, then unhealthy; a pass resets the streak', () => {
  const rules = { startedAt: at(0), startPeriodMs: 0, retries: 2 };
  let h: HealthState = startingHealth(undefined);
  let r = applyProbe(h, result(100, 0, 'ok'), rules);
  assert.equal(r.changed, 'healthy');
  h = r.health;
  r = applyProbe(h, result(200, 1), rules);
  assert.deepEqual([r.health.status, r.health.failingStreak, r.changed], ['healthy', 1, undefined]);
  r = applyProbe(r.health, result(300, -1), rules);
  assert.deepEqual([r.health.status, r.health.failingStreak, r.changed], ['unhealthy', 2, 'unhealthy']);
  r = applyProbe(r.health, result(400, 1), rules);
  assert.deepEqual([r.health.status, r.health.failingStreak, r.changed], ['unhealthy', 3, undefined]);
  r = applyProbe(r.health, result(500, 0), rules);
  assert.deepEqual([r.health.status, r.health.failingStreak, r.changed], ['healthy', 0, 'healthy']);
});

test('failures inside the start period do not count while starting; after it, or once healthy, they do', () => {
  const rules = { startedAt: at(0), startPeriodMs: 1000, retries: 1 };
  let r = applyProbe(startingHealth(undefined), result(500, 1), rules);
  assert.deepEqual([r.health.status, r.health.failingStreak], ['starting', 0]);
  r = applyProbe(r.health, result(1000, 1), rules);
  assert.deepEqual([r.health.status, r.health.failingStreak, r.changed], ['unhealthy', 1, 'unhealthy']);
  // A pass ends the start period: a failure inside its time then counts.
  r = applyProbe(startingHealth(undefined), result(100, 0), rules);
  r = applyProbe(r.health, result(200, 1), rules);
  assert.deepEqual([r.health.status, r.health.failingStreak, r.changed], ['unhealthy', 1, 'unhealthy']);
});

test('the log keeps the last 5 results; a restart resets status and streak but keeps the log', () => {
  let h: HealthState = startingHealth(undefined);
  for (let i = 0; i < 7; i++) h = applyProbe(h, result(i * 100, i % 2, `run ${i}`), { startedAt: at(0), startPeriodMs: 0, retries: 10 }).health;
  assert.deepEqual(
    h.log.map((l) => l.output),
    ['run 2', 'run 3', 'run 4', 'run 5', 'run 6'],
  );
  const again = startingHealth(h);
  assert.deepEqual([again.status, again.failingStreak, again.log.length], ['starting', 0, 5]);
});

test('the start interval applies while starting inside the start period', () => {
  const t = { startedAt: at(0), intervalMs: 1000, startIntervalMs: 100, startPeriodMs: 5000 };
  assert.equal(nextDelayMs(startingHealth(undefined), { ...t, now: Date.parse(at(10)) }), 100);
  assert.equal(nextDelayMs({ status: 'healthy', failingStreak: 0, log: [] }, { ...t, now: Date.parse(at(10)) }), 1000);
  assert.equal(nextDelayMs(startingHealth(undefined), { ...t, now: Date.parse(at(5000)) }), 1000);
});

test('output: the first 4096 bytes, "..." when more came', () => {
  const small = new LimitedOutput();
  small.write(Buffer.from('hello '));
  small.write(Buffer.from('world'));
  assert.equal(small.toString(), 'hello world');
  const big = new LimitedOutput();
  big.write(Buffer.alloc(3000, 'a'));
  big.write(Buffer.alloc(3000, 'b'));
  const text = big.toString();
  assert.equal(text.length, 4099);
  assert.ok(text.endsWith('b...'));
  assert.equal(text.slice(0, 3000), 'a'.repeat(3000));
});

test("durations as Go prints them, for Docker's timeout message", () => {
  assert.equal(goDuration(30 * S), '30s');
  assert.equal(goDuration(S / 2), '500ms');
  assert.equal(goDuration(1.5 * S), '1.5s');
  assert.equal(goDuration(90 * S), '1m30s');
  assert.equal(goDuration(3600 * S), '1h0m0s');
});

test('Docker translation: Config.Healthcheck both ways; the ps Status with age and health', () => {
  const docker = { Test: ['CMD-SHELL', 'true'], Interval: S, Timeout: 0, Retries: 2 };
  const cfg = healthcheckFromDocker(docker);
  assert.deepEqual(cfg, { test: ['CMD-SHELL', 'true'], interval: S, retries: 2 });
  assert.deepEqual(dockerHealthcheck(cfg), { Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: S, Retries: 2 } });
  assert.deepEqual(healthcheckFromDocker({ Test: ['NONE'] }), { test: ['NONE'] });
  assert.equal(humanDuration(400), 'Less than a second');
  assert.equal(humanDuration(3_000), '3 seconds');
  assert.equal(humanDuration(61_000), 'About a minute');
  assert.equal(humanDuration(3 * 3600_000), '3 hours');
  const now = Date.parse(at(3_500));
  const c = (state: Partial<ContainerRecord['state']>): ContainerRecord =>
    ({ state: { status: 'running', pid: 1, exitCode: 0, oomKilled: false, error: '', startedAt: at(0), finishedAt: '', ...state } }) as ContainerRecord;
  assert.equal(statusText(c({}), now), 'Up 3 seconds');
  assert.equal(statusText(c({ health: { status: 'healthy', failingStreak: 0, log: [] } }), now), 'Up 3 seconds (healthy)');
  assert.equal(statusText(c({ health: { status: 'starting', failingStreak: 0, log: [] } }), now), 'Up 3 seconds (health: starting)');
  assert.equal(statusText(c({ status: 'exited', exitCode: 3, finishedAt: at(1_000) }), now), 'Exited (3) 2 seconds ago');
  assert.equal(statusText(c({ status: 'created', startedAt: '' }), now), 'Created');
});
