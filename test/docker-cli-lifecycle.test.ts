/**
 * The real docker CLI on berthd for the container lifecycle verbs the other
 * suites leave out: `run -it` through a pty, `run -d`, `logs -f` until the
 * container ends, `inspect`, `kill`, `stop`, `rm -f`, `tag`, `images`.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runBerth } from './support/cli';
import { startRegistry, type Registry } from './support/registry';
import { ensureTestImages, type TestImages } from './support/test-images';

let dir = '';
let socket = '';
let registry: Registry;
let images: TestImages;
let env: NodeJS.ProcessEnv = {};

function docker(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('docker', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-docker-cli-'));
  socket = path.join(dir, 'run', 'berth.sock');
  registry = await startRegistry();
  images = await ensureTestImages(registry);
  const r = await runBerth(['engine', 'start', '--data-root', path.join(dir, 'data'), '--socket', socket]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  env = { ...process.env, DOCKER_HOST: `unix://${path.join(dir, 'run', 'docker.sock')}` };
  assert.equal((await docker(['pull', '-q', images.latest])).code, 0);
});

after(async () => {
  if (socket) {
    const ids = (await docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
    if (ids.length) await docker(['rm', '-f', ...ids]);
    await runBerth(['engine', 'stop', '--socket', socket]);
  }
  await registry?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('docker run -it through a pty: a terminal inside, the exit code back', async () => {
  const r = await new Promise<{ code: number; out: string }>((resolve) => {
    execFile('script', ['-qec', `docker run -it --rm ${images.latest} sh -c 'tty; exit 3'`, '/dev/null'], { env }, (err, stdout) => {
      resolve({ code: err ? Number((err as NodeJS.ErrnoException & { code?: number }).code ?? 1) : 0, out: stdout });
    });
  });
  assert.match(r.out, /\/dev\/pts\/\d+/);
  assert.equal(r.code, 3);
});

test('docker run -d, logs -f to the end, inspect, kill, stop, rm -f, tag and images', async () => {
  const id = (await docker(['run', '-d', '--name', 'counter', images.latest, 'sh', '-c', 'for i in 1 2 3; do echo line $i; sleep 0.2; done'])).stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const logs = await docker(['logs', '-f', 'counter']);
  assert.equal(logs.stdout, 'line 1\nline 2\nline 3\n', 'logs -f follows until the container ends');
  const state = JSON.parse((await docker(['inspect', 'counter'])).stdout) as { State: { Status: string; ExitCode: number }; Name: string }[];
  assert.equal(state[0]?.State.Status, 'exited');
  assert.equal(state[0]?.Name, '/counter');

  assert.equal((await docker(['run', '-d', '--name', 'sleeper', images.latest, 'sleep', '1000'])).code, 0);
  const kill = await docker(['kill', 'sleeper']);
  assert.equal(kill.code, 0, kill.stderr);
  const killed = JSON.parse((await docker(['inspect', 'sleeper'])).stdout) as { State: { ExitCode: number } }[];
  assert.equal(killed[0]?.State.ExitCode, 137);
  const again = await docker(['start', 'sleeper']);
  assert.equal(again.code, 0, `start after kill: ${again.stderr}`);
  assert.equal((await docker(['stop', '-t', '1', 'sleeper'])).code, 0);
  const third = await docker(['start', 'sleeper']);
  assert.equal(third.code, 0, `start after stop: ${third.stderr}`);
  assert.equal((await docker(['rm', '-f', 'sleeper'])).code, 0);
  assert.equal((await docker(['inspect', 'sleeper'])).code, 1, 'gone');

  assert.equal((await docker(['tag', images.latest, 'my/retagged:v1'])).code, 0);
  const listed = (await docker(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.split('\n');
  assert.ok(listed.includes('my/retagged:v1'), listed.join(' '));
  assert.equal((await docker(['rmi', 'my/retagged:v1'])).code, 0);
  assert.ok(!(await docker(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.includes('my/retagged'));
});
