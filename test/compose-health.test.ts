/**
 * `berth compose` on an engine that keeps health itself: the service's
 * healthcheck goes into the create request, berthd runs it, and
 * `depends_on: {condition: service_healthy}` waits on the engine's
 * State.Health (healthy, or unhealthy with the probe's output).
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ApiClient } from '../src/api/client';
import type { ContainerRecord } from '../src/api/types/containers';
import { startEngineFixture, type EngineFixture } from './support/engine-fixture';
import { dependsOnHealthyYaml } from './support/health-compose';

let fx: EngineFixture | undefined;
let api: ApiClient | undefined;

before(async () => {
  fx = await startEngineFixture('berth-compose-health-', { pull: true });
  api = new ApiClient({ socketPath: fx.socket });
});

after(async () => {
  await fx?.dispose();
});

async function byService(project: string): Promise<Record<string, ContainerRecord>> {
  const list = await (api as ApiClient).call('containerList', { query: { all: 'true', filters: JSON.stringify({ label: [`com.docker.compose.project=${project}`] }) } });
  return Object.fromEntries(list.map((c) => [c.request.labels?.['com.docker.compose.service'] ?? '', c]));
}

async function composeUp(name: string, yaml: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const f = fx as EngineFixture;
  const dir = path.join(f.dir, name);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'compose.yaml'), yaml);
  return f.berth(['compose', '-f', path.join(dir, 'compose.yaml'), 'up', '-d'], { env: { ...process.env, BUSYBOX: f.images.latest } });
}

test("service_healthy waits on the engine's State.Health", { timeout: 120_000 }, async () => {
  const up = await composeUp('ok', dependsOnHealthyYaml('${BUSYBOX}', { command: "sh -c 'sleep 1.5; touch /tmp/ready; exec sleep 1000'", test: 'test -f /tmp/ready', retries: 50 }, { name: 'hc-ok' }));
  assert.equal(up.code, 0, up.stdout + up.stderr);
  assert.match(up.stderr, /db is healthy \(the engine's health check\)/);
  const c = await byService('hc-ok');
  const db = c['db'] as ContainerRecord;
  assert.deepEqual(db.request.healthcheck, { test: ['CMD-SHELL', 'test -f /tmp/ready'], interval: 200e6, timeout: 30e9, startPeriod: 0, startInterval: 5e9, retries: 50 });
  assert.equal(db.state.health?.status, 'healthy');
  const waited = Date.parse(c['app']?.state.startedAt ?? '') - Date.parse(db.state.startedAt);
  assert.ok(waited >= 1400, `app started ${waited} ms after db`);
  assert.equal(c['app']?.state.health, undefined, 'no healthcheck, no health');
});

test("an unhealthy dependency fails up with the engine's probe output", { timeout: 120_000 }, async () => {
  const up = await composeUp('bad', dependsOnHealthyYaml('${BUSYBOX}', { command: 'sleep 1000', test: "[CMD, sh, -c, 'echo not ready; exit 1']", retries: 2 }, { name: 'hc-bad' }));
  assert.notEqual(up.code, 0);
  assert.match(up.stdout + up.stderr, /service db is unhealthy: the engine's health check failed 2 times: not ready/);
  const c = await byService('hc-bad');
  assert.equal(c['db']?.state.health?.status, 'unhealthy');
  assert.equal(c['app'], undefined, 'app never created');
});
