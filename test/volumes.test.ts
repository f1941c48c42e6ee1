/**
 * Volumes and mounts end to end, as root: a real registry, a real berthd,
 * real runc, the real docker CLI. Named and anonymous volumes, Docker's
 * copy-up, binds (read-only, created by Binds, refused by Mounts when
 * missing), tmpfs, `rm -v`, and volumes across a SIGKILL of the daemon.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { lstat, mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ApiClient } from '../src/api/client';
import type { ContainerCreateRequest, MountRequest } from '../src/api/types/containers';
import { runChecked } from '../src/common/process/spawn';
import { runBerth, singleJson } from './support/cli';
import { dockerSocketOf, runDocker, type DockerRun } from './support/docker-cli';
import { startRegistry, type Registry } from './support/registry';
import { ensureTestImages, type TestImages } from './support/test-images';

let registry: Registry;
let images: TestImages;
/** busybox with `VOLUME /home/app` (owned by app, 1000:1000, in the image). */
let withVolume = '';
let dir = '';
let socket = '';
let client: ApiClient;

async function startEngine(): Promise<number> {
  const r = await runBerth(['engine', 'start', '--data-root', path.join(dir, 'data'), '--socket', socket]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return singleJson(r.stdout)['pid'] as number;
}

const volumesRoot = (): string => path.join(dir, 'data', 'volumes');

/** Creates, starts and waits for a container; returns its id, exit code and output (the container is kept). */
async function run(request: ContainerCreateRequest): Promise<{ id: string; exitCode: number; stdout: string; stderr: string }> {
  const { id } = await client.call('containerCreate', { body: request });
  await client.call('containerStart', { params: { id } });
  const { exitCode } = await client.call('containerWait', { params: { id } });
  let stdout = '';
  let stderr = '';
  for await (const l of client.stream('containerLogs', { params: { id } })) {
    if (l.stream === 'stdout') stdout += `${l.line}\n`;
    else stderr += `${l.line}\n`;
  }
  return { id, exitCode, stdout, stderr };
}

async function runAndRemove(request: ContainerCreateRequest): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await run(request);
  await client.call('containerRemove', { params: { id: r.id }, query: { force: 'true' } });
  return r;
}

const volume = (source: string | undefined, target: string, extra: Partial<MountRequest> = {}): MountRequest => ({ type: 'volume', ...(source ? { source } : {}), target, ...extra });

const docker = (args: readonly string[]): Promise<DockerRun> => runDocker(dockerSocketOf(socket), args);

/** Pushes a copy of the busybox image with a VOLUME in its config. */
async function pushImageWithVolume(): Promise<string> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'berth-volimg-'));
  try {
    await runChecked(['cp', '-a', images.layout, path.join(work, 'oci')]);
    const layout = path.join(work, 'oci');
    await runChecked(['umoci', 'config', '--image', `${layout}:latest`, '--tag', 'withvol', '--config.volume', '/home/app']);
    const creds = registry.credentials ? ['--dest-creds', `${registry.credentials.username}:${registry.credentials.password}`] : [];
    await runChecked(['skopeo', '--insecure-policy', 'copy', '--quiet', '--dest-tls-verify=false', ...creds, `oci:${layout}:withvol`, `docker://${registry.host}/busybox:withvol`]);
    return `${registry.host}/busybox:withvol`;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

before(async () => {
  registry = await startRegistry();
  images = await ensureTestImages(registry);
  withVolume = await pushImageWithVolume();
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-volumes-'));
  socket = path.join(dir, 'run', 'berth.sock');
  client = new ApiClient({ socketPath: socket });
  await startEngine();
  for (const ref of [images.latest, withVolume]) {
    const r = await runBerth(['pull', ref, '--socket', socket]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  }
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

test('volume content survives container removal and a SIGKILL of berthd; "in use" comes back from the container records', async () => {
  const created = await client.call('volumeCreate', { body: { name: 'keep', labels: { purpose: 'test' } } });
  assert.equal(created.mountpoint, path.join(volumesRoot(), 'keep', '_data'));
  const write = await runAndRemove({ image: images.latest, mounts: [volume('keep', '/data')], cmd: ['sh', '-c', 'echo precious > /data/file; chown 1000:1000 /data/file'] });
  assert.equal(write.exitCode, 0, write.stderr);
  // A container that never ran still holds the volume, as in Docker.
  const { id: holder } = await client.call('containerCreate', { body: { image: images.latest, mounts: [volume('keep', '/data')], cmd: ['true'] } });
  assert.deepEqual((await client.call('volumeInspect', { params: { name: 'keep' } })).usedBy, [holder]);

  const { pid } = await client.call('ping');
  process.kill(pid, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 500));
  await startEngine();

  const after = await client.call('volumeInspect', { params: { name: 'keep' } });
  assert.deepEqual(after.usedBy, [holder]);
  assert.deepEqual(after.labels, { purpose: 'test' });
  await assert.rejects(client.call('volumeRemove', { params: { name: 'keep' } }), (err: Error & { code?: string }) => err.code === 'conflict' && /volume is in use/.test(err.message));
  await assert.rejects(client.call('volumeRemove', { params: { name: 'keep' }, query: { force: 'true' } }), /volume is in use/);
  const read = await runAndRemove({ image: images.latest, mounts: [volume('keep', '/data', { readOnly: true })], cmd: ['sh', '-c', 'cat /data/file; stat -c %u /data/file; touch /data/x'] });
  assert.equal(read.stdout, 'precious\n1000\n');
  assert.match(read.stderr, /Read-only file system/);
  assert.notEqual(read.exitCode, 0);
  await client.call('containerRemove', { params: { id: holder } });
  await client.call('volumeRemove', { params: { name: 'keep' } });
  assert.equal(existsSync(path.join(volumesRoot(), 'keep')), false);
  await assert.rejects(client.call('volumeInspect', { params: { name: 'keep' } }), /no such volume/);
});

test("copy-up: an empty volume gets the image's content at its mount point; nocopy and non-empty volumes do not", async () => {
  // /bin: the container can only run at all if the applet symlinks were copied into the volume.
  const bin = await runAndRemove({ image: images.latest, mounts: [volume('binvol', '/bin')], cmd: ['sh', '-c', 'ls /bin | wc -l; readlink /bin/ls'] });
  assert.equal(bin.exitCode, 0, bin.stderr);
  assert.ok(Number(bin.stdout.split('\n')[0]) > 100, bin.stdout);
  assert.match(bin.stdout, /^busybox$/m);
  const ls = path.join(volumesRoot(), 'binvol', '_data', 'ls');
  assert.ok((await lstat(ls)).isSymbolicLink());
  assert.equal(await readlink(ls), 'busybox');

  // /etc with owners and modes; the volume's root takes the directory's mode.
  const etc = await runAndRemove({ image: images.latest, mounts: [volume('etcvol', '/etc')], cmd: ['sh', '-c', 'grep ^app: /etc/passwd'] });
  assert.match(etc.stdout, /^app:x:1000:1000:/);
  const passwd = await stat(path.join(volumesRoot(), 'etcvol', '_data', 'passwd'));
  assert.deepEqual([passwd.uid, passwd.gid], [0, 0]);
  assert.equal((await stat(path.join(volumesRoot(), 'etcvol', '_data'))).mode & 0o777, 0o755);

  // /home/app belongs to app in the image: so does the volume's root.
  const home = await runAndRemove({ image: images.latest, mounts: [volume('homevol', '/home/app')], user: 'app', cmd: ['sh', '-c', 'touch /home/app/mine && stat -c %U /home/app'] });
  assert.equal(home.exitCode, 0, home.stderr);
  assert.equal(home.stdout, 'app\n');

  const nocopy = await runAndRemove({ image: images.latest, mounts: [volume('nocopyvol', '/etc', { noCopy: true })], cmd: ['sh', '-c', 'ls -A /etc | wc -l'] });
  assert.equal(nocopy.stdout.trim(), '0');

  const seed = await runAndRemove({ image: images.latest, mounts: [volume('seeded', '/data')], cmd: ['sh', '-c', 'echo mine > /data/marker'] });
  assert.equal(seed.exitCode, 0, seed.stderr);
  const kept = await runAndRemove({ image: images.latest, mounts: [volume('seeded', '/etc')], cmd: ['sh', '-c', 'ls -A /etc; cat /etc/marker'] });
  assert.equal(kept.stdout, 'marker\nmine\n', 'a volume with content is never overwritten');

  // Mounted again after use: the content is the volume's, not the image's again.
  const again = await runAndRemove({ image: images.latest, mounts: [volume('etcvol', '/etc')], cmd: ['sh', '-c', 'echo changed > /etc/motd'] });
  assert.equal(again.exitCode, 0);
  assert.equal(await readFile(path.join(volumesRoot(), 'etcvol', '_data', 'motd'), 'utf8'), 'changed\n');
  for (const name of ['binvol', 'etcvol', 'homevol', 'nocopyvol', 'seeded']) await client.call('volumeRemove', { params: { name } });
});

test("the image's VOLUME gets an anonymous volume (with the image's content) unless a mount covers it", async () => {
  const r = await run({ image: withVolume, cmd: ['sh', '-c', 'stat -c %U /home/app; echo x > /home/app/f'] });
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout, 'app\n');
  const record = await client.call('containerInspect', { params: { id: r.id } });
  const [m] = record.mounts ?? [];
  assert.equal(record.mounts?.length, 1);
  assert.equal(m?.destination, '/home/app');
  assert.equal(m?.anonymous, true);
  assert.match(m?.name ?? '', /^[0-9a-f]{64}$/);
  const anon = await client.call('volumeInspect', { params: { name: m?.name ?? '' } });
  assert.deepEqual(anon.labels, { 'com.docker.volume.anonymous': '' });
  assert.equal((await stat(anon.mountpoint)).uid, 1000);
  // Removing the container alone keeps it; prune (anonymous only by default) then takes it.
  await client.call('containerRemove', { params: { id: r.id } });
  await client.call('volumeCreate', { body: { name: 'named-unused' } });
  const pruned = await client.call('volumePrune', { body: {} });
  assert.deepEqual(pruned.deleted, [anon.name]);
  assert.ok(pruned.spaceReclaimed >= 2);
  await client.call('volumeInspect', { params: { name: 'named-unused' } });
  assert.deepEqual((await client.call('volumePrune', { body: { all: true } })).deleted, ['named-unused']);

  const covered = await run({ image: withVolume, mounts: [{ type: 'tmpfs', target: '/home/app' }], cmd: ['true'] });
  assert.deepEqual(
    (await client.call('containerInspect', { params: { id: covered.id } })).mounts?.map((x) => x.type),
    ['tmpfs'],
  );
  await client.call('containerRemove', { params: { id: covered.id }, query: { volumes: 'true' } });
  assert.deepEqual(await client.call('volumeList'), []);
});

test('binds: read-only, missing sources; tmpfs with size and mode; a failed create leaves no anonymous volume', async () => {
  const host = await mkdtemp(path.join(dir, 'host-'));
  await writeFile(path.join(host, 'hello'), 'from host\n');
  const ro = await runAndRemove({ image: images.latest, mounts: [{ type: 'bind', source: host, target: '/x', readOnly: true }], cmd: ['sh', '-c', 'cat /x/hello; touch /x/new'] });
  assert.equal(ro.stdout, 'from host\n');
  assert.match(ro.stderr, /Read-only file system/);
  assert.equal(existsSync(path.join(host, 'new')), false);
  await assert.rejects(
    client.call('containerCreate', { body: { image: images.latest, mounts: [volume(undefined, '/anon'), { type: 'bind', source: path.join(host, 'missing'), target: '/m' }] } }),
    /bind source path does not exist/,
  );
  assert.deepEqual(await client.call('volumeList'), [], 'the anonymous volume made for the failed create is gone');
  await assert.rejects(client.call('containerCreate', { body: { image: images.latest, mounts: [volume('a', '/x')] } }), /invalid characters for a local volume name/);
  await assert.rejects(client.call('containerCreate', { body: { image: images.latest, mounts: [volume('dup1', '/x'), volume('dup2', '/x/')] } }), /Duplicate mount point: \/x/);
  const t = await runAndRemove({ image: images.latest, mounts: [{ type: 'tmpfs', target: '/t', options: ['size=1m', 'mode=1770'] }], cmd: ['sh', '-c', 'stat -c %a /t; df -k /t | tail -1'] });
  assert.equal(t.exitCode, 0, t.stderr);
  const [mode, df] = t.stdout.trim().split('\n');
  assert.equal(mode, '1770');
  assert.match(df ?? '', /^tmpfs\s+1024\s/);
});

test('the docker CLI: volume create/ls/inspect/rm, run -v, binds, --mount, --tmpfs, rm -v', async () => {
  const created = await docker(['volume', 'create', '--label', 'team=berth', 'dv']);
  assert.equal(created.code, 0, created.stderr);
  assert.equal(created.stdout.trim(), 'dv');
  assert.equal((await docker(['volume', 'create', 'dv'])).code, 0, 'creating an existing volume again is fine');
  assert.match((await docker(['volume', 'ls', '-q'])).stdout, /^dv$/m);
  assert.equal((await docker(['volume', 'ls', '-q', '--filter', 'label=team=berth'])).stdout.trim(), 'dv');
  assert.equal((await docker(['volume', 'ls', '-q', '--filter', 'label=team=other'])).stdout.trim(), '');
  const inspect = await docker(['volume', 'inspect', 'dv', '--format', '{{.Name}} {{.Driver}} {{.Mountpoint}} {{.Labels}} {{.Scope}}']);
  assert.equal(inspect.stdout.trim(), `dv local ${path.join(volumesRoot(), 'dv', '_data')} map[team:berth] local`);
  assert.match((await docker(['volume', 'create', 'bad/name'])).stderr, /invalid characters for a local volume name/);

  const write = await docker(['run', '--name', 'dvuser', '-v', 'dv:/data', images.latest, 'sh', '-c', 'echo hi > /data/f']);
  assert.equal(write.code, 0, write.stderr);
  const inUse = await docker(['volume', 'rm', 'dv']);
  assert.notEqual(inUse.code, 0);
  assert.match(inUse.stderr, /remove dv: volume is in use - \[[0-9a-f]{64}\]/);
  const mounts = JSON.parse((await docker(['inspect', '--format', '{{json .Mounts}}', 'dvuser'])).stdout) as Record<string, unknown>[];
  assert.deepEqual(mounts, [{ Type: 'volume', Name: 'dv', Source: path.join(volumesRoot(), 'dv', '_data'), Destination: '/data', Driver: 'local', Mode: 'z', RW: true, Propagation: '' }]);
  assert.equal((await docker(['rm', 'dvuser'])).code, 0);
  const read = await docker(['run', '--rm', '-v', 'dv:/data', images.latest, 'cat', '/data/f']);
  assert.equal(read.stdout, 'hi\n');
  assert.equal((await docker(['volume', 'rm', 'dv'])).code, 0);
  assert.match((await docker(['volume', 'inspect', 'dv'])).stderr, /no such volume/);

  // `docker run -v name:...` makes a missing named volume.
  assert.equal((await docker(['run', '--rm', '-v', 'auto-made:/m', images.latest, 'true'])).code, 0);
  assert.equal((await docker(['volume', 'ls', '-q', '--filter', 'name=auto-made'])).stdout.trim(), 'auto-made');

  // nocopy, from -v and from --mount; labels for a volume --mount creates.
  const nocopyBind = await docker(['run', '--rm', '-v', 'nc1:/etc:nocopy', images.latest, 'sh', '-c', 'ls -A /etc | wc -l']);
  assert.equal(nocopyBind.stdout.trim(), '0', nocopyBind.stderr);
  const nocopyMount = await docker(['run', '--rm', '--mount', 'type=volume,src=nc2,dst=/etc,volume-nocopy,volume-label=made=by-mount', images.latest, 'sh', '-c', 'ls -A /etc | wc -l']);
  assert.equal(nocopyMount.stdout.trim(), '0', nocopyMount.stderr);
  assert.equal((await docker(['volume', 'inspect', 'nc2', '--format', '{{.Labels.made}}'])).stdout.trim(), 'by-mount');
  const copied = await docker(['run', '--rm', '--mount', 'type=volume,src=nc3,dst=/etc', images.latest, 'sh', '-c', 'ls -A /etc | wc -l']);
  assert.notEqual(copied.stdout.trim(), '0');
  assert.equal((await docker(['volume', 'rm', 'nc1', 'nc2', 'nc3'])).code, 0);

  const host = await mkdtemp(path.join(dir, 'dhost-'));
  await writeFile(path.join(host, 'h.txt'), 'host file\n');
  const ro = await docker(['run', '--rm', '-v', `${host}:/x:ro`, images.latest, 'sh', '-c', 'cat /x/h.txt; echo no > /x/w']);
  assert.notEqual(ro.code, 0);
  assert.equal(ro.stdout, 'host file\n');
  assert.match(ro.stderr, /Read-only file system/);
  // Binds (-v) create a missing host directory; --mount type=bind refuses it.
  const made = path.join(host, 'made', 'deep');
  assert.equal((await docker(['run', '--rm', '-v', `${made}:/y`, images.latest, 'sh', '-c', 'echo ok > /y/f'])).code, 0);
  assert.equal(await readFile(path.join(made, 'f'), 'utf8'), 'ok\n');
  const missing = path.join(host, 'missing');
  const refused = await docker(['run', '--rm', '--mount', `type=bind,src=${missing},dst=/x`, images.latest, 'true']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, new RegExp(`invalid mount config for type "bind": bind source path does not exist: ${missing}`));
  assert.equal(existsSync(missing), false);
  const bindRo = await docker(['run', '--rm', '--mount', `type=bind,src=${host},dst=/x,readonly`, images.latest, 'sh', '-c', 'touch /x/z']);
  assert.match(bindRo.stderr, /Read-only file system/);

  const tmpfs = await docker(['run', '--rm', '--tmpfs', '/t:size=1m', images.latest, 'sh', '-c', 'df -k /t | tail -1; grep " /t " /proc/mounts']);
  assert.equal(tmpfs.code, 0, tmpfs.stderr);
  assert.match(tmpfs.stdout, /^tmpfs\s+1024\s/m);
  assert.match(tmpfs.stdout, /tmpfs \/t tmpfs rw,nosuid,nodev,noexec/);
  const tmpfsMount = await docker(['run', '--rm', '--mount', 'type=tmpfs,dst=/t2,tmpfs-size=2097152,tmpfs-mode=1770', images.latest, 'sh', '-c', 'stat -c %a /t2; df -k /t2 | tail -1']);
  assert.equal(tmpfsMount.code, 0, tmpfsMount.stderr);
  assert.match(tmpfsMount.stdout, /^1770\ntmpfs\s+2048\s/);

  // rm -v: the anonymous volume goes, the named one stays.
  assert.equal((await docker(['create', '--name', 'rmv', '-v', 'stays:/n', '-v', '/anon', '--mount', 'type=volume,dst=/anon2', images.latest, 'true'])).code, 0);
  const rmvMounts = JSON.parse((await docker(['inspect', '--format', '{{json .Mounts}}', 'rmv'])).stdout) as { Name: string; Destination: string }[];
  const anonymous = rmvMounts.filter((m) => m.Destination !== '/n').map((m) => m.Name);
  assert.equal(anonymous.length, 2);
  for (const name of anonymous) assert.match(name, /^[0-9a-f]{64}$/);
  const before = (await docker(['volume', 'ls', '-q'])).stdout;
  for (const name of [...anonymous, 'stays']) assert.match(before, new RegExp(`^${name}$`, 'm'));
  assert.equal((await docker(['rm', '-v', 'rmv'])).code, 0);
  const afterRm = (await docker(['volume', 'ls', '-q'])).stdout;
  assert.match(afterRm, /^stays$/m);
  for (const name of anonymous) assert.doesNotMatch(afterRm, new RegExp(name));

  // --rm also takes the container's anonymous volumes, before `docker run` returns.
  const countBefore = (await client.call('volumeList')).length;
  assert.equal((await docker(['run', '--rm', '-v', '/scratch', images.latest, 'true'])).code, 0);
  assert.equal((await client.call('volumeList')).length, countBefore);

  // prune: anonymous only by default; -a for named ones too.
  await docker(['create', '--name', 'anonkeeper', '-v', '/k', images.latest, 'true']);
  await docker(['rm', 'anonkeeper']);
  const dangling = (await docker(['volume', 'ls', '-q', '--filter', 'dangling=true'])).stdout.trim().split('\n');
  assert.ok(dangling.some((n) => /^[0-9a-f]{64}$/.test(n)), dangling.join(','));
  const prune = await docker(['volume', 'prune', '-f']);
  assert.equal(prune.code, 0, prune.stderr);
  assert.doesNotMatch((await docker(['volume', 'ls', '-q'])).stdout, /^[0-9a-f]{64}$/m);
  assert.match((await docker(['volume', 'ls', '-q'])).stdout, /^stays$/m);
  const pruneAll = await docker(['volume', 'prune', '-af']);
  assert.equal(pruneAll.code, 0, pruneAll.stderr);
  assert.equal((await docker(['volume', 'ls', '-q'])).stdout.trim(), '');
});
