/**
 * dockerode (the Node Docker client from npm) against berthd's Docker API:
 * pull with its progress stream, run with attached output and the exit
 * code, exec with demultiplexed output and the exit code from inspect.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import Docker from 'dockerode';
import { runBerth } from './support/cli';
import { startRegistry, type Registry } from './support/registry';
import { ensureTestImages, type TestImages } from './support/test-images';

let dir = '';
let socket = '';
let registry: Registry;
let images: TestImages;
let docker: Docker;

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString('utf8')));
  return { stream, text: () => text };
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-dockerode-'));
  socket = path.join(dir, 'run', 'berth.sock');
  registry = await startRegistry();
  images = await ensureTestImages(registry);
  const r = await runBerth(['engine', 'start', '--data-root', path.join(dir, 'data'), '--socket', socket]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  docker = new Docker({ socketPath: path.join(dir, 'run', 'docker.sock') });
});

after(async () => {
  if (docker) for (const c of await docker.listContainers({ all: true }).catch(() => [])) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  if (socket) await runBerth(['engine', 'stop', '--socket', socket]);
  await registry?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('dockerode: pull with progress, run with output and exit code, exec with demultiplexed streams and ExitCode', async () => {
  const stream = await docker.pull(images.latest);
  const events = await new Promise<{ status?: string }[]>((resolve, reject) => docker.modem.followProgress(stream, (err, out: { status?: string }[]) => (err ? reject(err) : resolve(out))));
  assert.ok(events.some((e) => /Downloaded newer image|Image is up to date|Pull complete/.test(e.status ?? '')), JSON.stringify(events.slice(-3)));
  assert.ok((await docker.listImages()).some((i) => (i.RepoTags ?? []).includes(images.latest)));

  const out = collect();
  const [result] = (await docker.run(images.latest, ['sh', '-c', 'echo hello from dockerode; exit 3'], out.stream, { Tty: false, HostConfig: { AutoRemove: false } })) as [{ StatusCode: number }, Docker.Container];
  assert.equal(result.StatusCode, 3);
  assert.match(out.text(), /hello from dockerode/);

  const c = await docker.createContainer({ Image: images.latest, Cmd: ['sleep', '1000'], Labels: { 'berth.test': 'dockerode' } });
  await c.start();
  assert.equal((await c.inspect()).State.Running, true);
  const listed = await docker.listContainers({ filters: JSON.stringify({ label: ['berth.test=dockerode'] }) });
  assert.deepEqual(listed.map((l) => l.Id), [c.id]);
  const exec = await c.exec({ Cmd: ['sh', '-c', 'echo to-stdout; echo to-stderr >&2; exit 7'], AttachStdout: true, AttachStderr: true });
  const duplex = await exec.start({ hijack: true, stdin: false });
  const stdout = collect();
  const stderr = collect();
  docker.modem.demuxStream(duplex, stdout.stream, stderr.stream);
  await new Promise<void>((resolve) => duplex.on('end', () => resolve()));
  assert.equal(stdout.text(), 'to-stdout\n');
  assert.equal(stderr.text(), 'to-stderr\n');
  assert.equal((await exec.inspect()).ExitCode, 7);
  await c.stop({ t: 1 });
  await c.remove();
});
