/**
 * Healthchecks kept by the engine, through the real docker CLI on berthd:
 * `docker run --health-*` and an image's HEALTHCHECK become State.Health
 * (`docker inspect`), `docker ps` shows "(healthy)" and filters on health,
 * `docker events` shows health_status; retries, the start period and the
 * timeout count as Docker counts them; `--no-healthcheck` turns the image's
 * check off; the monitor stops with the container and resumes after a
 * berthd restart; docker-compose v1's `service_healthy` waits on it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runBerth } from './support/cli';
import { composeV1Bin } from './support/compose-v1';
import { startDockerFixture, type DockerFixture, type DockerRun, type DockerRunOptions } from './support/docker-cli';
import { dependsOnHealthyYaml } from './support/health-compose';

let fx: DockerFixture;

interface Health {
  Status: string;
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[];
}

const docker = (args: readonly string[], options?: DockerRunOptions): Promise<DockerRun> => fx.docker(args, options);

async function run(args: readonly string[]): Promise<string> {
  const r = await docker(['run', '-d', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

async function health(name: string): Promise<Health | null> {
  const r = await docker(['inspect', '-f', '{{json .State.Health}}', name]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Health | null;
}

/** Polls the health until `done` holds; every state seen goes to `seen`. */
async function waitHealth(name: string, done: (h: Health) => boolean, seen: Health[] = [], timeoutMs = 20_000): Promise<Health> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const h = await health(name);
    if (h) seen.push(h);
    if (h && done(h)) return h;
    if (Date.now() > deadline) assert.fail(`${name}: health still ${JSON.stringify(h)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 40));
  }
}

async function events(since: number, container: string): Promise<string[]> {
  const r = await docker(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', `container=${container}`, '--filter', 'event=health_status', '--format', '{{.Action}}']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

before(async () => {
  fx = await startDockerFixture('berth-health-');
});

after(async () => {
  await fx?.dispose();
});

test('a passing check makes the container healthy: docker inspect, docker ps (status and filter), and a health_status event', async () => {
  const since = Math.floor(Date.now() / 1000);
  await run(['--name', 'good', '--health-cmd', 'echo fine', '--health-interval', '500ms', '--health-retries', '2', fx.images.latest, 'sleep', '1000']);
  const first = await health('good');
  assert.equal(first?.Status, 'starting', 'starting until the first probe');
  const h = await waitHealth('good', (x) => x.Status === 'healthy');
  assert.equal(h.FailingStreak, 0);
  assert.equal(h.Log.at(-1)?.ExitCode, 0);
  assert.equal(h.Log.at(-1)?.Output, 'fine\n');
  assert.ok(Date.parse(h.Log.at(-1)?.End ?? '') >= Date.parse(h.Log.at(-1)?.Start ?? ''));

  const cfg = JSON.parse((await docker(['inspect', '-f', '{{json .Config.Healthcheck}}', 'good'])).stdout) as Record<string, unknown>;
  assert.deepEqual(cfg, { Test: ['CMD-SHELL', 'echo fine'], Interval: 500_000_000, Retries: 2 });

  const ps = await docker(['ps', '--filter', 'name=good', '--format', '{{.Names}}|{{.Status}}']);
  assert.match(ps.stdout.trim(), /^good\|Up (Less than a second|\d+ seconds?) \(healthy\)$/);
  const healthy = (await docker(['ps', '--filter', 'health=healthy', '--format', '{{.Names}}'])).stdout.split('\n');
  assert.ok(healthy.includes('good'), healthy.join(','));
  assert.ok(!(await docker(['ps', '--filter', 'health=unhealthy', '--format', '{{.Names}}'])).stdout.split('\n').includes('good'));
  assert.deepEqual(await events(since, 'good'), ['health_status: healthy']);

  // The log keeps the last five probes.
  const many = await waitHealth('good', (x) => x.Log.length === 5);
  await new Promise((r) => setTimeout(r, 800));
  const later = await health('good');
  assert.equal(later?.Log.length, 5);
  assert.notEqual(later?.Log[0]?.Start, many.Log[0]?.Start, 'older entries dropped');
});

test('a failing check turns unhealthy after `retries` consecutive failures, not before', async () => {
  const since = Math.floor(Date.now() / 1000);
  await run(['--name', 'bad', '--health-cmd', 'echo broken >&2; exit 3', '--health-interval', '500ms', '--health-retries', '3', fx.images.latest, 'sleep', '1000']);
  const seen: Health[] = [];
  const h = await waitHealth('bad', (x) => x.Status !== 'starting', seen);
  assert.equal(h.Status, 'unhealthy');
  assert.equal(h.FailingStreak, 3, 'unhealthy at the third failure');
  assert.ok(seen.some((x) => x.Status === 'starting' && x.FailingStreak === 2), `starting with two failures first: ${JSON.stringify(seen.map((x) => [x.Status, x.FailingStreak]))}`);
  assert.deepEqual(
    h.Log.map((l) => [l.ExitCode, l.Output]),
    [
      [3, 'broken\n'],
      [3, 'broken\n'],
      [3, 'broken\n'],
    ],
  );
  const ps = await docker(['ps', '--filter', 'health=unhealthy', '--format', '{{.Names}}|{{.Status}}']);
  assert.match(ps.stdout, /^bad\|Up .* \(unhealthy\)$/m);
  assert.deepEqual(await events(since, 'bad'), ['health_status: unhealthy']);
});

test('failures inside the start period (probed every start interval) do not count; the first pass makes it healthy', async () => {
  const since = Math.floor(Date.now() / 1000);
  await run(['--name', 'slow', '--health-cmd', 'test -f /tmp/ready', '--health-interval', '1m', '--health-start-interval', '200ms', '--health-retries', '1', '--health-start-period', '30s', fx.images.latest, 'sh', '-c', 'sleep 2; touch /tmp/ready; sleep 1000']);
  const seen: Health[] = [];
  const h = await waitHealth('slow', (x) => x.Status !== 'starting', seen);
  assert.equal(h.Status, 'healthy', JSON.stringify(h));
  assert.ok(
    h.Log.some((l) => l.ExitCode === 1),
    `failed probes ran during the start period: ${JSON.stringify(h.Log)}`,
  );
  assert.ok(seen.every((x) => x.FailingStreak === 0));
  assert.deepEqual(await events(since, 'slow'), ['health_status: healthy']);
});

test('a probe that outlives its timeout is killed and counts as a failure (exit -1)', async () => {
  await run(['--name', 'stuck', '--health-cmd', 'echo waiting; sleep 30', '--health-timeout', '300ms', '--health-interval', '200ms', '--health-retries', '1', fx.images.latest, 'sleep', '1000']);
  const h = await waitHealth('stuck', (x) => x.Status !== 'starting');
  assert.equal(h.Status, 'unhealthy');
  const entry = h.Log[0];
  assert.equal(entry?.ExitCode, -1);
  assert.equal(entry?.Output, 'Health check exceeded timeout (300ms): waiting\n');
  assert.ok(Date.parse(entry?.End ?? '') - Date.parse(entry?.Start ?? '') < 5_000, `killed at the timeout, not after sleep 30: ${JSON.stringify(entry)}`);
});

test("an image's HEALTHCHECK runs; --no-healthcheck turns it off", async () => {
  const ctx = path.join(fx.dir, 'hc-image');
  await mkdir(ctx, { recursive: true });
  await writeFile(path.join(ctx, 'Dockerfile'), `FROM ${fx.images.latest}\nHEALTHCHECK --interval=200ms --retries=1 CMD ["sh", "-c", "echo from-image"]\n`);
  const built = await docker(['build', '-q', '-t', 'hc-image', '.'], { env: { DOCKER_BUILDKIT: '0' }, cwd: ctx });
  assert.equal(built.code, 0, built.stderr);

  await run(['--name', 'imagecheck', 'hc-image', 'sleep', '1000']);
  const h = await waitHealth('imagecheck', (x) => x.Status === 'healthy');
  assert.equal(h.Log.at(-1)?.Output, 'from-image\n');

  await run(['--name', 'nocheck', '--no-healthcheck', 'hc-image', 'sleep', '1000']);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(await health('nocheck'), null, 'no State.Health');
  const cfg = JSON.parse((await docker(['inspect', '-f', '{{json .Config.Healthcheck}}', 'nocheck'])).stdout) as { Test: string[] };
  assert.deepEqual(cfg.Test, ['NONE']);
  const none = (await docker(['ps', '--filter', 'health=none', '--format', '{{.Names}}'])).stdout.split('\n');
  assert.ok(none.includes('nocheck') && !none.includes('imagecheck'), none.join(','));
  const status = (await docker(['ps', '--filter', 'name=nocheck', '--format', '{{.Status}}'])).stdout.trim();
  assert.match(status, /^Up [^(]+$/);
});

test('the monitor stops with the container, and a restart starts it again from "starting"', async () => {
  await run(['--name', 'stopper', '--health-cmd', 'true', '--health-interval', '1s', fx.images.latest, 'sleep', '1000']);
  await waitHealth('stopper', (x) => x.Status === 'healthy' && x.Log.length >= 2);
  assert.equal((await docker(['stop', '-t', '1', 'stopper'])).code, 0);
  const stopped = await health('stopper');
  await new Promise((r) => setTimeout(r, 1000));
  assert.deepEqual(await health('stopper'), stopped, 'no probes while stopped');
  assert.equal((await docker(['start', 'stopper'])).code, 0);
  const restarted = await health('stopper');
  assert.equal(restarted?.Status, 'starting');
  assert.equal(restarted?.Log.length, stopped?.Log.length, 'the log carries over');
  await waitHealth('stopper', (x) => x.Status === 'healthy');
});

test('health survives a berthd restart: the status is kept and the monitor resumes', async () => {
  await run(['--name', 'durable', '--health-cmd', 'echo alive', '--health-interval', '250ms', fx.images.latest, 'sleep', '1000']);
  await waitHealth('durable', (x) => x.Status === 'healthy');
  assert.equal((await runBerth(['engine', 'stop', '--socket', fx.socket])).code, 0);
  const down = Date.now();
  await new Promise((r) => setTimeout(r, 500));
  await fx.startEngine();
  const after = await health('durable');
  assert.equal(after?.Status, 'healthy', 'kept across the restart');
  const resumed = await waitHealth('durable', (x) => x.Log.some((l) => Date.parse(l.Start) > down + 500));
  assert.equal(resumed.Status, 'healthy');
  assert.equal(resumed.Log.at(-1)?.Output, 'alive\n');
  const ps = await docker(['ps', '--filter', 'name=durable', '--format', '{{.Status}}']);
  assert.match(ps.stdout.trim(), /\(healthy\)$/);
});

test("docker-compose v1's depends_on: service_healthy waits on berthd's State.Health", { timeout: 120_000 }, async (t) => {
  const compose = await composeV1Bin();
  if (!compose.bin) return t.skip(compose.why ?? 'docker-compose v1 is not available');
  const project = path.join(fx.dir, 'v1');
  await mkdir(project, { recursive: true });
  await writeFile(
    path.join(project, 'docker-compose.yml'),
    dependsOnHealthyYaml(fx.images.latest, { command: "sh -c 'sleep 1.5; touch /tmp/ready; exec sleep 1000'", test: 'test -f /tmp/ready', retries: 50 }, {
      extra: `  broken:
    image: ${fx.images.latest}
    command: sleep 1000
    profiles: [broken]
    healthcheck:
      test: [CMD, "false"]
      interval: 200ms
      retries: 2
  waiter:
    image: ${fx.images.latest}
    command: sleep 1000
    profiles: [broken]
    depends_on:
      broken: { condition: service_healthy }
`,
    }),
  );
  const v1 = (name: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const child = spawn(path.join(compose.bin ?? '', 'docker-compose'), ['-p', name, ...args], { cwd: project, env: fx.env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  const up = await v1('hcv1', ['up', '-d']);
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const started = async (name: string): Promise<number> => Date.parse((await docker(['inspect', '-f', '{{.State.StartedAt}}', name])).stdout.trim());
  const waited = (await started('hcv1_app_1')) - (await started('hcv1_db_1'));
  assert.ok(waited >= 1400, `app started ${waited} ms after db`);
  assert.equal((await health('hcv1_db_1'))?.Status, 'healthy');

  // A second `up` of the same project: v1 checks that the network's options are still its own.
  const bad = await v1('hcv1', ['--profile', 'broken', 'up', '-d', 'waiter']);
  assert.notEqual(bad.code, 0, bad.stdout + bad.stderr);
  assert.match(bad.stderr, /is unhealthy/);
  assert.equal((await health('hcv1_broken_1'))?.Status, 'unhealthy');
  assert.equal((await docker(['inspect', 'hcv1_waiter_1'])).code === 0 && (await docker(['inspect', '-f', '{{.State.Status}}', 'hcv1_waiter_1'])).stdout.trim() === 'running', false, 'waiter not started');
  await v1('hcv1', ['--profile', 'broken', 'down', '-t', '1']);
});
