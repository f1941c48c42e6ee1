/**
 * berthd end to end, as root: a real registry, real runc, the real docker
 * CLI. Pull (OCI, Docker schema2, zstd), run with Docker's defaults seen
 * from inside, limits in the cgroup, and a SIGKILL of the daemon with a
 * container running.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { ApiClient } from '../src/api/client';
import type { ContainerCreateRequest } from '../src/api/types/containers';
import { runBerth, singleJson } from './support/cli';
import { runDocker } from './support/docker-cli';
import { startRegistry, type Registry } from './support/registry';
import { ensureTestImages, type TestImages } from './support/test-images';

const exec = promisify(execFile);
let registry: Registry;
let images: TestImages;
let dir = '';
let socket = '';
let client: ApiClient;

async function startEngine(runtime?: 'runc' | 'crun'): Promise<number> {
  const r = await runBerth(['engine', 'start', '--data-root', path.join(dir, 'data'), '--socket', socket, ...(runtime ? ['--runtime', runtime] : [])]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return singleJson(r.stdout)['pid'] as number;
}

/** Creates, starts and waits for a container; returns its exit code and output. */
async function runToEnd(request: ContainerCreateRequest): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const { id } = await client.call('containerCreate', { body: request });
  await client.call('containerStart', { params: { id } });
  const { exitCode } = await client.call('containerWait', { params: { id } });
  let stdout = '';
  let stderr = '';
  for await (const l of client.stream('containerLogs', { params: { id } })) {
    if (l.stream === 'stdout') stdout += `${l.line}\n`;
    else stderr += `${l.line}\n`;
  }
  await client.call('containerRemove', { params: { id }, query: { force: 'true' } });
  return { exitCode, stdout, stderr };
}

before(async () => {
  registry = await startRegistry();
  images = await ensureTestImages(registry);
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-engine-'));
  socket = path.join(dir, 'run', 'berth.sock');
  client = new ApiClient({ socketPath: socket });
  await startEngine();
});

after(async () => {
  if (client) {
    const all = await client.call('containerList', { query: { all: 'true' } }).catch(() => []);
    for (const c of all) await client.call('containerRemove', { params: { id: c.id }, query: { force: 'true' } }).catch(() => undefined);
    await runBerth(['engine', 'stop', '--socket', socket]);
  }
  await registry?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('pull OCI, Docker schema2 and zstd images from a real registry, with progress', async () => {
  const r = await runBerth(['pull', images.latest, '--socket', socket]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stderr, /Pull complete/);
  assert.match(r.stderr, /Digest: sha256:[a-f0-9]{64}/);
  const out = singleJson(r.stdout);
  assert.equal(out['outcome'], 'success');
  for (const ref of [images.docker, images.zstd]) {
    const p = await runBerth(['pull', ref, '--socket', socket]);
    assert.equal(p.code, 0, p.stdout);
    assert.equal(singleJson(p.stdout)['id'], out['id'], `${ref} is the same image`);
  }
  const list = await client.call('imageList');
  assert.equal(list.length, 1);
  assert.equal(list[0]?.repoTags.length, 3);
  const missing = await runBerth(['pull', `${registry.host}/nope:latest`, '--socket', socket]);
  assert.equal(missing.code, 1);
  assert.match(String(singleJson(missing.stdout)['message']), /not found/);
});

test('tag and push to a new repository, then pull it back by digest', async () => {
  const target = `${registry.host}/pushed/busybox:v1`;
  const tag = await runBerth(['tag', images.latest, target, '--socket', socket]);
  assert.equal(tag.code, 0, tag.stdout);
  const push = await runBerth(['push', target, '--socket', socket]);
  assert.equal(push.code, 0, push.stdout + push.stderr);
  const digests = singleJson(push.stdout)['repoDigests'] as string[];
  const pushed = digests.find((d) => d.startsWith(`${registry.host}/pushed/busybox@`));
  assert.ok(pushed, JSON.stringify(digests));
  const pull = await runBerth(['pull', pushed, '--socket', socket]);
  assert.equal(pull.code, 0, pull.stdout);
});

test('events stream container lifecycle with labels, filtered; since replays the recent ones', async () => {
  const controller = new AbortController();
  const seen: string[] = [];
  const since = String(BigInt(Date.now() - 1) * 1_000_000n);
  // The first container's events are over before the stream opens: only `since` brings them.
  await runToEnd({ image: images.latest, cmd: ['true'], labels: { 'berth.events': '1' } });
  await runToEnd({ image: images.latest, cmd: ['true'] });
  let destroyed = 0;
  const reading = (async () => {
    for await (const e of client.stream('events', { query: { filters: JSON.stringify({ label: ['berth.events=1'] }), since }, signal: controller.signal })) {
      seen.push(e.action);
      if (e.action === 'destroy' && ++destroyed === 2) return;
    }
  })().catch(() => undefined);
  await runToEnd({ image: images.latest, cmd: ['true'], labels: { 'berth.events': '1' } });
  await Promise.race([reading, new Promise((r) => setTimeout(r, 5000))]);
  controller.abort();
  assert.deepEqual(seen, ['create', 'start', 'die', 'destroy', 'create', 'start', 'die', 'destroy']);
  await assert.rejects(client.call('events', { query: { since: 'yesterday' } }), /nanoseconds/);
});

test('a container runs its command; exit codes and both output streams come back', async () => {
  const r = await runToEnd({ image: images.latest, cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'] });
  assert.equal(r.exitCode, 3);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  assert.equal((await runToEnd({ image: images.latest, cmd: ['true'] })).exitCode, 0);
  await assert.rejects(client.call('containerCreate', { body: { image: `${registry.host}/never-pulled:1` } }), /no such image/);
});

test("layers are applied in order: whiteouts hide the lower layer's files", async () => {
  const r = await runToEnd({ image: images.latest, cmd: ['sh', '-c', 'ls /etc; cat /etc/motd 2>/dev/null; true'] });
  assert.equal(r.exitCode, 0);
  assert.match(r.stdout, /passwd/);
});

test("Docker's defaults seen from inside: capabilities, seccomp, masked and read-only paths, hostname, user", async () => {
  const r = await runToEnd({
    image: images.latest,
    hostname: 'berth-test',
    cmd: ['sh', '-c', 'grep -E "^(CapEff|CapBnd|Seccomp|NoNewPrivs):" /proc/self/status; hostname; wc -c < /proc/timer_list; echo 1 > /proc/sys/kernel/domainname && echo writable || echo readonly'],
  });
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /CapEff:\s+00000000a80425fb/, 'the 14 default capabilities');
  assert.match(r.stdout, /CapBnd:\s+00000000a80425fb/);
  assert.match(r.stdout, /Seccomp:\s+2/);
  assert.match(r.stdout, /^berth-test$/m);
  assert.match(r.stdout, /^0$/m, '/proc/timer_list is masked');
  assert.match(r.stdout, /readonly/);
  const user = await runToEnd({ image: images.latest, user: 'app', cmd: ['id'] });
  assert.match(user.stdout.trim(), /^uid=1000\(app\) gid=1000\(app\)/);
  const priv = await runToEnd({ image: images.latest, privileged: true, cmd: ['sh', '-c', 'grep -E "^(CapEff|Seccomp):" /proc/self/status'] });
  assert.match(priv.stdout, /Seccomp:\s+0/);
  assert.doesNotMatch(priv.stdout, /CapEff:\s+00000000a80425fb/);
  const blocked = await runToEnd({ image: images.latest, cmd: ['sh', '-c', 'unshare -m true 2>&1; echo rc=$?'] });
  assert.match(blocked.stdout, /rc=[1-9]/, 'unshare is refused by seccomp');
});

test('resource limits are visible in the container cgroup', async () => {
  const r = await runToEnd({
    image: images.latest,
    resources: { memory: 64 * 1024 * 1024, pidsLimit: 50, nanoCpus: 500_000_000 },
    cmd: ['sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us'],
  });
  assert.equal(r.exitCode, 0, r.stderr);
  const [memory, pids, quota] = r.stdout.trim().split('\n');
  assert.equal(memory, String(64 * 1024 * 1024));
  assert.equal(pids, '50');
  assert.equal(quota, '50000');
});

test('SIGKILL of berthd leaves containers running; the restarted engine reconciles them', async () => {
  const { id: longId } = await client.call('containerCreate', {
    body: { image: images.latest, cmd: ['sh', '-c', 'trap "exit 143" TERM; while true; do sleep 1; done'] },
  });
  await client.call('containerStart', { params: { id: longId } });
  const { id: shortId } = await client.call('containerCreate', { body: { image: images.latest, cmd: ['sh', '-c', 'sleep 1; exit 7'] } });
  await client.call('containerStart', { params: { id: shortId } });
  const { pid, runtime } = await client.call('info');
  process.kill(pid, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 1500));
  // While the engine is dead, the container process is still there and the short one has exited.
  const running = await exec(runtime, ['--root', path.join(dir, 'run', runtime), 'state', longId]);
  assert.match(running.stdout, /"status": "running"/);
  await startEngine();
  const long = await client.call('containerInspect', { params: { id: longId } });
  assert.equal(long.state.status, 'running');
  const short = await client.call('containerInspect', { params: { id: shortId } });
  assert.equal(short.state.status, 'exited');
  assert.equal(short.state.exitCode, 7);
  await client.call('containerStop', { params: { id: longId }, query: { timeout: '5' } });
  const stopped = await client.call('containerInspect', { params: { id: longId } });
  assert.equal(stopped.state.status, 'exited');
  assert.equal(stopped.state.exitCode, 143, 'SIGTERM');
});

test('a container keeps the runtime it was created with when the engine restarts with the other one', async () => {
  const { runtime } = await client.call('info');
  const other = runtime === 'crun' ? 'runc' : 'crun';
  await runBerth(['engine', 'stop', '--socket', socket]);
  await startEngine(other);
  try {
    assert.equal((await client.call('info')).runtime, other);
    const { id } = await client.call('containerCreate', { body: { image: images.latest, cmd: ['sh', '-c', 'trap "exit 143" TERM; while true; do sleep 1; done'] } });
    await client.call('containerStart', { params: { id } });
    await exec(other, ['--root', path.join(dir, 'run', other), 'state', id]);
    await runBerth(['engine', 'stop', '--socket', socket]);
    await startEngine(runtime === 'crun' ? 'crun' : 'runc');
    assert.equal((await client.call('containerInspect', { params: { id } })).state.status, 'running');
    await client.call('containerStop', { params: { id }, query: { timeout: '5' } });
    assert.equal((await client.call('containerInspect', { params: { id } })).state.exitCode, 143);
    await client.call('containerRemove', { params: { id } });
    await assert.rejects(exec(other, ['--root', path.join(dir, 'run', other), 'state', id]), 'the runtime forgot it');
  } finally {
    if ((await client.call('info').catch(() => undefined))?.runtime !== runtime) {
      await runBerth(['engine', 'stop', '--socket', socket]);
      await startEngine(runtime === 'crun' ? 'crun' : 'runc');
    }
  }
});

test('the state machine refuses what does not make sense', async () => {
  const { id } = await client.call('containerCreate', { body: { image: images.latest, cmd: ['sleep', '300'] } });
  await assert.rejects(client.call('containerKill', { params: { id } }), /not running/);
  await client.call('containerStart', { params: { id } });
  await assert.rejects(client.call('containerStart', { params: { id } }), /already running/);
  await assert.rejects(client.call('containerRemove', { params: { id } }), /stop it first or use force/);
  await client.call('containerRemove', { params: { id }, query: { force: 'true' } });
  await assert.rejects(client.call('containerInspect', { params: { id } }), /no such container/);
});

test('the real docker CLI runs containers on berthd', async () => {
  const socket = path.join(dir, 'run', 'docker.sock');
  const docker = async (args: readonly string[]): Promise<string> => {
    const r = await runDocker(socket, args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  assert.match(await docker(['version', '--format', '{{.Server.Version}}']), /\d+\.\d+\.\d+/);
  const run = await runDocker(socket, ['run', '--rm', images.latest, 'sh', '-c', 'echo hello docker; exit 5']);
  assert.equal(run.code, 5);
  assert.equal(run.stdout, 'hello docker\n');
  const id = (await docker(['run', '-d', '--label', 'berth.test=1', images.latest, 'sleep', '100'])).trim();
  assert.equal((await docker(['ps', '--filter', 'label=berth.test=1', '--format', '{{.ID}}'])).trim(), id.slice(0, 12));
  await docker(['rm', '-f', id]);
  assert.doesNotMatch(await docker(['ps', '-a', '--format', '{{.ID}}']), new RegExp(id.slice(0, 12)));
});
