import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { extract, pack } from 'tar-stream';
import { archiveFromContainer, extractToContainer, goFileMode, statInContainer } from './archive';
import { resolveInScope, type HostPathOf } from './scoped-path';

let dir = '';
let root = '';
let outside = '';
let hostPathOf: HostPathOf;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-archive-'));
  root = path.join(dir, 'rootfs');
  outside = path.join(dir, 'outside');
  await mkdir(path.join(root, 'etc'), { recursive: true });
  await mkdir(path.join(root, 'data', 'sub'), { recursive: true });
  await mkdir(outside);
  await writeFile(path.join(root, 'etc', 'passwd'), 'container passwd\n');
  await writeFile(path.join(outside, 'passwd'), 'host passwd\n');
  await writeFile(path.join(root, 'data', 'sub', 'f'), 'f\n');
  await symlink('/etc', path.join(root, 'abs'));
  await symlink('../../../../../..', path.join(root, 'data', 'up'));
  await symlink(outside, path.join(root, 'host'));
  await symlink('sub/f', path.join(root, 'data', 'rel'));
  await symlink('loop', path.join(root, 'loop'));
  hostPathOf = (p) => path.join(root, p);
});

after(() => rm(dir, { recursive: true, force: true }));

test('paths resolve inside the root: ".." stops there, links (absolute or relative) are followed inside it', async () => {
  assert.equal(await resolveInScope(hostPathOf, '/../../etc/passwd', true), '/etc/passwd');
  assert.equal(await resolveInScope(hostPathOf, '/abs/passwd', true), '/etc/passwd');
  assert.equal(await resolveInScope(hostPathOf, '/data/up/etc/passwd', true), '/etc/passwd');
  assert.equal(await resolveInScope(hostPathOf, '/data/rel', true), '/data/sub/f');
  assert.equal(await resolveInScope(hostPathOf, '/data/rel', false), '/data/rel');
  // A link to a host path names that path inside the container, where it does not exist.
  assert.equal(await resolveInScope(hostPathOf, '/host/passwd', true), `${outside}/passwd`);
  assert.equal(await resolveInScope(hostPathOf, '/missing/x/../y', true), '/missing/y');
  await assert.rejects(resolveInScope(hostPathOf, '/loop', true), /too many levels of symbolic links/);
  await assert.rejects(resolveInScope(hostPathOf, '/a\0b', true), /NUL/);
});

test('stat: Go file modes, the link target resolved inside the container, a missing path', async () => {
  const { stat } = await statInContainer(hostPathOf, '/data/rel');
  assert.equal(stat.name, 'rel');
  assert.equal(stat.linkTarget, '/data/sub/f');
  assert.equal(stat.mode & 2 ** 27, 2 ** 27);
  const dirStat = await lstat(path.join(root, 'data'));
  assert.equal(goFileMode(dirStat), 2 ** 31 + (dirStat.mode & 0o777));
  assert.equal((await statInContainer(hostPathOf, '/data/.')).stat.name, '.');
  await assert.rejects(statInContainer(hostPathOf, '/host/passwd'), (e: Error & { code?: string }) => e.code === 'not_found');
});

async function entries(tar: Readable): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const ex = extract();
  ex.on('entry', (h, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => chunks.push(c as Buffer));
    stream.on('end', () => {
      out[h.name] = h.type === 'symlink' ? `-> ${h.linkname ?? ''}` : h.type === 'directory' ? 'dir' : Buffer.concat(chunks).toString();
      next();
    });
  });
  tar.pipe(ex);
  await new Promise<void>((resolve, reject) => ex.on('finish', () => resolve()).on('error', reject));
  return out;
}

test('archive: a directory with its content under its name, links stored as links, "/." for the content only', async () => {
  assert.deepEqual(await entries((await archiveFromContainer(hostPathOf, '/data')).tar), { 'data/': 'dir', 'data/rel': '-> sub/f', 'data/sub/': 'dir', 'data/sub/f': 'f\n', 'data/up': '-> ../../../../../..' });
  assert.deepEqual(await entries((await archiveFromContainer(hostPathOf, '/data/sub/.')).tar), { './f': 'f\n' });
  assert.deepEqual(await entries((await archiveFromContainer(hostPathOf, '/abs/passwd')).tar), { passwd: 'container passwd\n' });
});

function tarOf(items: { name: string; type?: 'file' | 'symlink' | 'directory'; body?: string; linkname?: string; uid?: number }[]): Readable {
  const p = pack();
  for (const i of items) p.entry({ name: i.name, type: i.type ?? 'file', mode: 0o644, uid: i.uid ?? 1234, gid: i.uid ?? 1234, ...(i.linkname ? { linkname: i.linkname } : {}) }, i.body ?? '');
  p.finalize();
  return p as unknown as Readable;
}

test('extract: into a directory through links inside the container, root-owned unless owners are kept', async () => {
  await extractToContainer(hostPathOf, '/abs', tarOf([{ name: 'new/file', body: 'x' }]));
  assert.equal(await readFile(path.join(root, 'etc', 'new', 'file'), 'utf8'), 'x');
  assert.equal((await lstat(path.join(root, 'etc', 'new', 'file'))).uid, 0);
  await extractToContainer(hostPathOf, '/data', tarOf([{ name: 'kept', body: 'k' }]), { copyOwners: true });
  assert.equal((await lstat(path.join(root, 'data', 'kept'))).uid, 1234);
  await extractToContainer(hostPathOf, '/data', tarOf([{ name: 'ln', type: 'symlink', linkname: '/etc/passwd' }]));
  assert.equal(await readlink(path.join(root, 'data', 'ln')), '/etc/passwd');
});

test('extract: refuses entries that leave the destination or go through links, whiteout names, a file as the destination', async () => {
  await assert.rejects(extractToContainer(hostPathOf, '/data', tarOf([{ name: '../../escape', body: 'x' }])), /escapes/);
  await assert.rejects(extractToContainer(hostPathOf, '/', tarOf([{ name: 'host/passwd', body: 'overwritten' }])), /symbolic link/);
  assert.equal(await readFile(path.join(outside, 'passwd'), 'utf8'), 'host passwd\n');
  await assert.rejects(extractToContainer(hostPathOf, '/data', tarOf([{ name: '.wh.sub', body: '' }])), /reserved/);
  await assert.rejects(extractToContainer(hostPathOf, '/etc/passwd', tarOf([{ name: 'x', body: '' }])), /not a directory/);
  await assert.rejects(extractToContainer(hostPathOf, '/nope', tarOf([{ name: 'x', body: '' }])), (e: Error & { code?: string }) => e.code === 'not_found');
  // The host directory a link names is not where the container's path lands.
  await assert.rejects(extractToContainer(hostPathOf, '/host', tarOf([{ name: 'planted', body: 'x' }])), (e: Error & { code?: string }) => e.code === 'not_found');
  await assert.rejects(readFile(path.join(outside, 'planted')));
});
