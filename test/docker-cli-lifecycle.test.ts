/**
 * The real docker CLI on berthd for the container lifecycle verbs the other
 * suites leave out: `run -it` through a pty, `run -d`, `logs -f` until the
 * container ends, `inspect`, `kill`, `stop`, `rm -f`, `tag`, `images`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { startDockerFixture, type DockerFixture, type DockerRun } from './support/docker-cli';

let fx: DockerFixture;
const docker = (args: readonly string[]): Promise<DockerRun> => fx.docker(args);

before(async () => {
  fx = await startDockerFixture('berth-docker-cli-');
});

after(async () => {
  await fx?.dispose();
});

test('docker run -it through a pty: a terminal inside, the exit code back', async () => {
  const r = await new Promise<{ code: number; out: string }>((resolve) => {
    execFile('script', ['-qec', `docker run -it --rm ${fx.images.latest} sh -c 'tty; exit 3'`, '/dev/null'], { env: fx.env }, (err, stdout) => {
      resolve({ code: err ? Number((err as NodeJS.ErrnoException & { code?: number }).code ?? 1) : 0, out: stdout });
    });
  });
  assert.match(r.out, /\/dev\/pts\/\d+/);
  assert.equal(r.code, 3);
});

test('docker run -d, logs -f to the end, inspect, kill, stop, rm -f, tag and images', async () => {
  const id = (await docker(['run', '-d', '--name', 'counter', fx.images.latest, 'sh', '-c', 'for i in 1 2 3; do echo line $i; sleep 0.2; done'])).stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const logs = await docker(['logs', '-f', 'counter']);
  assert.equal(logs.stdout, 'line 1\nline 2\nline 3\n', 'logs -f follows until the container ends');
  const state = JSON.parse((await docker(['inspect', 'counter'])).stdout) as { State: { Status: string; ExitCode: number }; Name: string }[];
  assert.equal(state[0]?.State.Status, 'exited');
  assert.equal(state[0]?.Name, '/counter');

  assert.equal((await docker(['run', '-d', '--name', 'sleeper', fx.images.latest, 'sleep', '1000'])).code, 0);
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

  assert.equal((await docker(['tag', fx.images.latest, 'my/retagged:v1'])).code, 0);
  const listed = (await docker(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.split('\n');
  assert.ok(listed.includes('my/retagged:v1'), listed.join(' '));
  assert.equal((await docker(['rmi', 'my/retagged:v1'])).code, 0);
  assert.ok(!(await docker(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.includes('my/retagged'));
});
