/**
 * The Docker Engine API end to end, as root: the real docker CLI against a
 * real berthd (real runc/crun, a real registry). exec (-i, -t through a pty,
 * exit codes, -u/-w/-e, Detach, inspect's ExitCode), cp both ways with link
 * escapes refused, top, stats, events with since/until and filters,
 * system df, save | load, import, push, image prune.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, readlink, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { unframe } from '../src/engine/server/docker/frames';
import { startDockerFixture, type DockerFixture, type DockerRun, type DockerRunOptions } from './support/docker-cli';
import { startRegistry } from './support/registry';

let fx: DockerFixture;
/** A long-running container the exec, cp, top and stats tests share. */
let box = '';

const docker = (args: readonly string[], options: DockerRunOptions = {}): Promise<DockerRun> => fx.docker(args, options);

async function ok(args: readonly string[], options: { input?: string | Buffer } = {}): Promise<string> {
  const r = await docker(args, options);
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A shell command line through `script`, so the docker CLI gets a terminal (of 30x100). */
function inPty(command: string): Promise<DockerRun> {
  return new Promise((resolve, reject) => {
    execFile('script', ['-qec', `stty rows 30 cols 100; ${command}`, '/dev/null'], { env: fx.env }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(new Error(`script failed: ${err.message}`));
      resolve({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr });
    });
  });
}

/** One raw request to the Docker socket; the whole body. */
function api(method: string, urlPath: string, body?: unknown): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({ socketPath: fx.dockerSocket, method, path: urlPath, headers: text ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(text);
  });
}

const json = <T>(r: { body: Buffer }): T => JSON.parse(r.body.toString('utf8')) as T;

/**
 * A hijacked request as the docker CLI makes it: `Upgrade: tcp`, the JSON body in a packet of
 * its own after the headers, then stdin (half-closed) once the 101 came; returns what followed the 101.
 */
async function hijacked(urlPath: string, body: unknown, stdin: string): Promise<{ head: string; stream: Buffer }> {
  const sock = net.connect(fx.dockerSocket);
  await once(sock, 'connect');
  const text = JSON.stringify(body);
  sock.write(`POST ${urlPath} HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n`);
  await new Promise((r) => setTimeout(r, 100));
  sock.write(text);
  let all = Buffer.alloc(0);
  let sent = false;
  sock.on('data', (d: Buffer) => {
    all = Buffer.concat([all, d]);
    if (!sent && all.includes('\r\n\r\n')) {
      sent = true;
      sock.end(stdin);
    }
  });
  // A stream that never ends (stdin never read) fails here instead of hanging the suite.
  await once(sock, 'close', { signal: AbortSignal.timeout(20_000) }).finally(() => sock.destroy());
  const end = all.indexOf('\r\n\r\n');
  return { head: all.subarray(0, end).toString(), stream: all.subarray(end + 4) };
}

before(async () => {
  // runc: it sizes an exec's pty (process.consoleSize) before the process starts; Debian's crun 1.8
  // does not, so the shim's resize right after can lose to a fast `stty size` on a loaded machine.
  fx = await startDockerFixture('berth-dockerapi-', { engineArgs: ['--runtime', 'runc'] });
  box = (await ok(['run', '-d', '--name', 'box', '--label', 'suite=docker-api', fx.images.latest, 'sleep', '1000'])).trim();
});

after(async () => {
  await fx?.dispose();
});

test('docker exec: output and exit codes, -u/-w/-e, stdin with -i, a terminal with -t, a missing command', async () => {
  const r = await docker(['exec', 'box', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.deepEqual([r.code, r.stdout, r.stderr], [3, 'out\n', 'err\n']);
  assert.equal(await ok(['exec', '-u', '1000:1000', '-w', '/tmp', '-e', 'GREETING=hi there', 'box', 'sh', '-c', 'echo "$(id -u):$(id -g) $(pwd) $GREETING"']), '1000:1000 /tmp hi there\n');
  // stdin, then its end (the CLI half-closes the connection): cat must see EOF to finish.
  assert.equal(await ok(['exec', '-i', 'box', 'sh', '-c', 'wc -l; echo after-eof'], { input: 'a\nb\nc\n' }), '3\nafter-eof\n');
  const tty = await inPty(`docker exec -t box sh -c 'tty; stty size; exit 7'`);
  assert.equal(tty.code, 7, tty.stdout + tty.stderr);
  assert.match(tty.stdout, /^\/dev\/pts\/\d+\r+\n30 100\r+\n/);
  const it = await inPty(`printf 'echo from-stdin; exit 4\\n' | docker exec -i box sh`);
  assert.deepEqual([it.code, it.stdout.replace(/\r/g, '')], [4, 'from-stdin\n']);
  const missing = await docker(['exec', 'box', 'no-such-command']);
  assert.equal(missing.code, 127);
  assert.match(missing.stdout + missing.stderr, /no-such-command/);
  const stopped = (await ok(['create', fx.images.latest, 'true'])).trim();
  const refused = await docker(['exec', stopped, 'true']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /is not running/);
});

test('exec through the API: ExitCode is set when the stream ends; Detach; resize; a second start is refused', async () => {
  const created = await api('POST', `/v1.44/containers/box/exec`, { Cmd: ['sh', '-c', 'echo one; echo two >&2; exit 42'], AttachStdout: true, AttachStderr: true });
  assert.equal(created.status, 201, created.body.toString());
  const { Id } = json<{ Id: string }>(created);
  const before = json<{ Running: boolean; ExitCode: number | null; ProcessConfig: { entrypoint: string; arguments: string[] } }>(await api('GET', `/exec/${Id}/json`));
  assert.deepEqual([before.Running, before.ExitCode, before.ProcessConfig.entrypoint, before.ProcessConfig.arguments], [false, null, 'sh', ['-c', 'echo one; echo two >&2; exit 42']]);
  const started = await api('POST', `/exec/${Id}/start`, { Detach: false, Tty: false });
  const frames = unframe(started.body).map((f) => [f.stream, f.data.toString()]);
  assert.deepEqual(frames, [
    [1, 'one\n'],
    [2, 'two\n'],
  ]);
  // No waiting: the stream closed after the exit code was recorded.
  const done = json<{ Running: boolean; ExitCode: number; Pid: number; ContainerID: string }>(await api('GET', `/exec/${Id}/json`));
  assert.deepEqual([done.Running, done.ExitCode, done.ContainerID], [false, 42, box]);
  assert.ok(done.Pid > 0);
  assert.equal((await api('POST', `/exec/${Id}/start`, { Detach: false })).status, 409);

  const detached = json<{ Id: string }>(await api('POST', '/containers/box/exec', { Cmd: ['sh', '-c', 'sleep 0.3; exit 5'] }));
  assert.equal((await api('POST', `/exec/${detached.Id}/start`, { Detach: true })).status, 200);
  assert.equal(json<{ Running: boolean }>(await api('GET', `/exec/${detached.Id}/json`)).Running, true);
  let code: number | null = null;
  for (let i = 0; i < 100 && code === null; i++, await new Promise((r) => setTimeout(r, 50))) code = json<{ ExitCode: number | null }>(await api('GET', `/exec/${detached.Id}/json`)).ExitCode;
  assert.equal(code, 5);

  const tty = json<{ Id: string }>(await api('POST', '/containers/box/exec', { Cmd: ['sh', '-c', 'sleep 0.5; stty size'], Tty: true, AttachStdout: true }));
  const sizing = api('POST', `/exec/${tty.Id}/start`, { Detach: false, Tty: true });
  // Resized once the process runs (not after a fixed wait: a busy machine starts it later), before its stty.
  let running = false;
  for (let i = 0; i < 200 && !running; i++, await new Promise((r) => setTimeout(r, 10))) running = json<{ Running: boolean }>(await api('GET', `/exec/${tty.Id}/json`)).Running;
  assert.ok(running, 'the exec runs');
  assert.equal((await api('POST', `/exec/${tty.Id}/resize?h=33&w=111`)).status, 200);
  assert.equal((await sizing).body.toString(), '33 111\r\n');
  assert.equal((await api('GET', '/exec/nope/json')).status, 404);

  // The docker CLI's `exec -t`: ConsoleSize at create, then a resize to the same size right after the start.
  const sized = await Promise.all(
    Array.from({ length: 5 }, async () => {
      const { Id: ttyId } = json<{ Id: string }>(await api('POST', '/containers/box/exec', { Cmd: ['sh', '-c', 'stty size'], Tty: true, AttachStdout: true, ConsoleSize: [24, 80] }));
      const out = hijacked(`/v1.44/exec/${ttyId}/start`, { Detach: false, Tty: true, ConsoleSize: [24, 80] }, '');
      await api('POST', `/exec/${ttyId}/resize?h=24&w=80`);
      return (await out).stream.toString();
    }),
  );
  assert.deepEqual(sized, Array.from({ length: 5 }, () => '24 80\r\n'));

  // Upgraded, the body apart from the headers, stdin read until its half-close.
  const withStdin = json<{ Id: string }>(await api('POST', '/containers/box/exec', { Cmd: ['sh', '-c', 'tr a-z A-Z; exit 9'], AttachStdin: true, AttachStdout: true, AttachStderr: true }));
  const upgraded = await hijacked(`/v1.44/exec/${withStdin.Id}/start`, { Detach: false, Tty: false }, 'shout\n');
  assert.match(upgraded.head, /^HTTP\/1.1 101 UPGRADED\r\n.*multiplexed-stream/s);
  assert.deepEqual(unframe(upgraded.stream).map((f) => [f.stream, f.data.toString()]), [[1, 'SHOUT\n']]);
  assert.equal(json<{ ExitCode: number }>(await api('GET', `/exec/${withStdin.Id}/json`)).ExitCode, 9);
});

test('docker cp: a file and a directory both ways, links kept or followed (-L), link escapes stay inside the container', async () => {
  const work = await mkdtemp(path.join(os.tmpdir(), 'berth-cp-'));
  try {
    await ok(['exec', 'box', 'sh', '-c', 'mkdir -p /data/sub && echo a > /data/a && echo b > /data/sub/b && chmod 640 /data/a && ln -s /data/a /data/link']);
    await ok(['cp', 'box:/data', path.join(work, 'out')]);
    assert.equal(await readFile(path.join(work, 'out', 'sub', 'b'), 'utf8'), 'b\n');
    assert.equal((await lstat(path.join(work, 'out', 'a'))).mode & 0o777, 0o640);
    assert.equal(await readlink(path.join(work, 'out', 'link')), '/data/a');
    await ok(['cp', '-L', 'box:/data/link', path.join(work, 'followed')]);
    assert.equal(await readFile(path.join(work, 'followed'), 'utf8'), 'a\n');
    assert.equal(await ok(['cp', 'box:/data/a', '-']).then((t) => t.includes('a\n')), true);

    await mkdir(path.join(work, 'in', 'deep'), { recursive: true });
    await writeFile(path.join(work, 'in', 'deep', 'f'), 'from host\n');
    await symlink('deep/f', path.join(work, 'in', 'rel'));
    await ok(['cp', path.join(work, 'in'), 'box:/data/']);
    await ok(['cp', path.join(work, 'in', 'deep', 'f'), 'box:/data/renamed']);
    assert.equal(await ok(['exec', 'box', 'sh', '-c', 'cat /data/in/deep/f /data/renamed; readlink /data/in/rel; stat -c %u:%g /data/renamed']), 'from host\nfrom host\ndeep/f\n0:0\n');

    // A host directory the container must never reach through its links.
    const hostOnly = path.join(work, 'host-only');
    await mkdir(hostOnly);
    await writeFile(path.join(hostOnly, 'secret'), 'host secret\n');
    await ok(['exec', 'box', 'sh', '-c', `ln -s ../../../../../../../..${hostOnly} /escape && ln -s ${hostOnly}/secret /abs-escape`]);
    const read = await docker(['cp', 'box:/escape/secret', path.join(work, 'stolen')]);
    assert.notEqual(read.code, 0);
    assert.match(read.stderr, /Could not find the file/);
    const readAbs = await docker(['cp', '-L', 'box:/abs-escape', path.join(work, 'stolen')]);
    assert.notEqual(readAbs.code, 0);
    assert.equal(existsSync(path.join(work, 'stolen')), false);
    await ok(['exec', 'box', 'mkdir', '-p', hostOnly]);
    await ok(['cp', path.join(work, 'in', 'deep', 'f'), 'box:/escape/']);
    assert.deepEqual((await readdir(hostOnly)).sort(), ['secret']);
    assert.equal(await ok(['exec', 'box', 'cat', `${hostOnly}/f`]), 'from host\n');
    const head = await api('HEAD', `/containers/box/archive?path=${encodeURIComponent('/data/link')}`);
    const stat = JSON.parse(Buffer.from(String(head.headers['x-docker-container-path-stat']), 'base64').toString()) as { name: string; linkTarget: string; mode: number };
    assert.deepEqual([stat.name, stat.linkTarget, stat.mode >= 2 ** 27], ['link', '/data/a', true]);
    assert.equal((await api('HEAD', '/containers/box/archive?path=/nope')).status, 404);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

test('docker top and docker stats --no-stream show the container and its processes', async () => {
  const exec = spawn('docker', ['exec', 'box', 'sleep', '77'], { env: fx.env });
  try {
    await new Promise((r) => setTimeout(r, 500));
    const top = await ok(['top', 'box']);
    assert.match(top, /^UID\s+PID\s+PPID/);
    assert.match(top, /sleep 1000/);
    assert.match(top, /sleep 77/);
    assert.doesNotMatch(top, /dockerd|berthd/);
    const aux = await ok(['top', 'box', 'aux']);
    assert.match(aux, /^USER\s+PID\s+%CPU/);
    const stats = JSON.parse(await ok(['stats', '--no-stream', '--format', '{{json .}}', 'box'])) as { Name: string; PIDs: string; MemUsage: string };
    assert.equal(stats.Name, 'box');
    assert.equal(stats.PIDs, '2');
    assert.match(stats.MemUsage, /^[\d.]+[KMG]i?B \/ [\d.]+[KMGT]i?B$/);
    assert.doesNotMatch(stats.MemUsage, /^0B/);
  } finally {
    exec.kill();
  }
});

test('docker events: replay with --since/--until and filters', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const id = (await ok(['run', '-d', '--label', 'ev=yes', '--name', 'ev1', fx.images.latest, 'true'])).trim();
  await ok(['wait', id]);
  await ok(['run', '--rm', fx.images.latest, 'true']);
  await ok(['tag', fx.images.latest, 'evtag:1']);
  const until = Math.ceil(Date.now() / 1000) + 1;
  const fmt = ['--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}'];
  const mine = await ok(['events', '--since', String(since), '--until', String(until), '--filter', 'label=ev=yes', ...fmt]);
  assert.deepEqual(mine.trim().split('\n'), ['container create ev1', 'container start ev1', 'container die ev1']);
  const byName = await ok(['events', '--since', String(since), '--until', String(until), '--filter', 'container=ev1', '--filter', 'event=die', ...fmt]);
  assert.equal(byName, 'container die ev1\n');
  const tags = await ok(['events', '--since', String(since), '--until', String(until), '--filter', 'type=image', ...fmt]);
  assert.equal(tags, 'image tag evtag:1\n');
  // Live: an event after the request comes through, and --until ends the stream.
  const live = docker(['events', '--until', String(Math.ceil(Date.now() / 1000) + 3), '--filter', 'event=destroy', ...fmt]);
  await new Promise((r) => setTimeout(r, 500));
  await ok(['rm', 'ev1']);
  assert.equal((await live).stdout, 'container destroy ev1\n');
});

test('docker system df counts images, containers and volumes', async () => {
  await ok(['volume', 'create', 'dfvol']);
  await ok(['run', '--rm', '-v', 'dfvol:/v', fx.images.latest, 'sh', '-c', 'head -c 100000 /dev/zero > /v/z']);
  const df = (await ok(['system', 'df', '--format', '{{json .}}'])).trim().split('\n').map((l) => JSON.parse(l) as { Type: string; TotalCount: string; Size: string });
  const row = (t: string): { TotalCount: string; Size: string } | undefined => df.find((d) => d.Type === t);
  assert.ok(Number(row('Images')?.TotalCount) >= 1);
  assert.ok(Number(row('Containers')?.TotalCount) >= 1);
  assert.equal(row('Local Volumes')?.TotalCount, '1');
  // 100,000 bytes of data and the directory itself.
  assert.match(row('Local Volumes')?.Size ?? '', /^10\d(\.\d+)?kB$/);
  await ok(['volume', 'rm', 'dfvol']);
});

test('docker login checks credentials; push and pull send them (X-Registry-Auth); refused without them', async () => {
  const locked = await startRegistry({ auth: 'basic' });
  const config = await mkdtemp(path.join(os.tmpdir(), 'berth-docker-config-'));
  try {
    const creds = locked.credentials;
    assert.ok(creds);
    const ref = `${locked.host}/private:v1`;
    await ok(['tag', fx.images.latest, ref]);
    const anonymous = await docker(['push', ref], { env: { DOCKER_CONFIG: config } });
    assert.notEqual(anonymous.code, 0);
    assert.match(anonymous.stdout + anonymous.stderr, /unauthorized|needs credentials/);
    // docker login: the engine checks the credentials with the registry, the client keeps them.
    const wrong = await docker(['login', '-u', creds.username, '--password-stdin', locked.host], { input: 'not-the-password', env: { DOCKER_CONFIG: config } });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /unauthorized/);
    const login = await docker(['login', '-u', creds.username, '--password-stdin', locked.host], { input: creds.password, env: { DOCKER_CONFIG: config } });
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /Login Succeeded/);
    assert.match(await readFile(path.join(config, 'config.json'), 'utf8'), new RegExp(locked.host.replace(/[.]/g, '\\.')));
    const pushed = await docker(['push', ref], { env: { DOCKER_CONFIG: config } });
    assert.equal(pushed.code, 0, pushed.stdout + pushed.stderr);
    assert.match(pushed.stdout, /v1: digest: sha256:/);
    await ok(['rmi', ref]);
    const pulled = await docker(['pull', ref], { env: { DOCKER_CONFIG: config } });
    assert.equal(pulled.code, 0, pulled.stdout + pulled.stderr);
  } finally {
    await locked.stop();
    await rm(config, { recursive: true, force: true });
  }
});

test('docker save | docker load round trip, docker import, docker push to the registry, docker image prune', async () => {
  const work = await mkdtemp(path.join(os.tmpdir(), 'berth-images-'));
  try {
    const pushed = `${fx.registry.host}/roundtrip:v1`;
    await ok(['tag', fx.images.latest, pushed]);
    const push = await ok(['push', pushed]);
    assert.match(push, /v1: digest: sha256:[0-9a-f]{64}/);
    await ok(['save', '-o', path.join(work, 'save.tar'), pushed]);
    const id = (await ok(['image', 'inspect', '-f', '{{.Id}}', pushed])).trim();
    await ok(['rmi', pushed]);
    assert.match(await ok(['load', '-i', path.join(work, 'save.tar')]), new RegExp(`Loaded image: ${pushed.replace(/[.]/g, '\\.')}`));
    assert.equal((await ok(['image', 'inspect', '-f', '{{.Id}}', pushed])).trim(), id);
    assert.equal(await ok(['run', '--rm', pushed, 'echo', 'loaded runs']), 'loaded runs\n');
    // An OCI image layout (as skopeo or buildkit write it) loads too; its entries name no repository.
    const layout = await new Promise<Buffer>((resolve, reject) => execFile('tar', ['-C', fx.images.layout, '-cf', '-', '.'], { encoding: 'buffer', maxBuffer: 256 * 2 ** 20 }, (e, out) => (e ? reject(new Error(e.message)) : resolve(out))));
    const oci = await docker(['load'], { input: layout });
    assert.equal(oci.code, 0, oci.stderr);
    assert.match(oci.stdout, new RegExp(`Loaded image ID: ${id}`));
    // Pushed for real: gone here, pulled back from the registry.
    await ok(['rmi', pushed]);
    await ok(['pull', '-q', pushed]);

    // A rootfs tarball becomes an image: the busybox binary and a file.
    const rootfs = path.join(work, 'rootfs');
    await mkdir(path.join(rootfs, 'bin'), { recursive: true });
    await ok(['cp', 'box:/bin/busybox', path.join(rootfs, 'bin', 'busybox')]);
    await writeFile(path.join(rootfs, 'hello.txt'), 'imported\n');
    const tarball = await new Promise<Buffer>((resolve, reject) => execFile('tar', ['-C', rootfs, '-cf', '-', '.'], { encoding: 'buffer', maxBuffer: 64 * 2 ** 20 }, (e, out) => (e ? reject(new Error(e.message)) : resolve(out))));
    const imported = await docker(['import', '-c', 'CMD ["/bin/busybox", "cat", "/hello.txt"]', '-m', 'from a tarball', '-', 'imported:v1'], { input: tarball });
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /^sha256:[0-9a-f]{64}\n$/);
    assert.equal(await ok(['run', '--rm', 'imported:v1']), 'imported\n');

    // prune: the untagged image goes, tagged ones stay; -a takes every unused one, never one a container uses.
    const untagged = (await docker(['import', '-'], { input: tarball })).stdout.trim();
    assert.match(untagged, /^sha256:[0-9a-f]{64}$/);
    await docker(['import', '-m', 'other', '-', 'keeper:1'], { input: tarball });
    const keeper = (await ok(['image', 'inspect', '-f', '{{.Id}}', 'keeper:1'])).trim();
    assert.notEqual(keeper, untagged);
    const prune = await ok(['image', 'prune', '-f']);
    assert.match(prune, new RegExp(`deleted: ${untagged}`, 'i'));
    assert.equal((await api('GET', `/images/${untagged}/json`)).status, 404);
    assert.equal((await api('GET', `/images/${keeper}/json`)).status, 200, 'a tagged image is kept');
    const all = await ok(['image', 'prune', '-a', '-f']);
    assert.match(all, new RegExp(`deleted: ${keeper}`, 'i'));
    assert.equal((await api('GET', `/images/${keeper}/json`)).status, 404);
    assert.equal((await api('GET', `/images/${encodeURIComponent(fx.images.latest)}/json`)).status, 200, 'an image a container uses is kept');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
