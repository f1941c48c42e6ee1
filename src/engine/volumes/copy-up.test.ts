import assert from 'node:assert/strict';
import { chown, lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { runChecked } from '../../common/process/spawn';
import { copyUp } from './copy-up';
import { resolveInRoot } from './scoped-path';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'berth-copyup-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

test('resolveInRoot follows links but never leaves the root', async () => {
  const root = path.join(dir, 'root');
  await mkdir(path.join(root, 'real', 'sub'), { recursive: true });
  await symlink('/real', path.join(root, 'abs'));
  await symlink('../../../../..', path.join(root, 'real', 'up'));
  await symlink('/etc', path.join(root, 'hostetc'));
  assert.equal(await resolveInRoot(root, '/abs/sub'), path.join(root, 'real', 'sub'));
  assert.equal(await resolveInRoot(root, '/real/up/real'), path.join(root, 'real'));
  assert.equal(await resolveInRoot(root, '/hostetc'), path.join(root, 'etc'), "an absolute link is the container's /etc, not the host's");
  assert.equal(await resolveInRoot(root, '/../../x'), path.join(root, 'x'));
  await symlink('loop', path.join(root, 'loop'));
  await assert.rejects(resolveInRoot(root, '/loop'), /too many levels/);
});

test('copy-up copies the image content with owners, modes, xattrs and links into an empty volume only', { skip: process.getuid?.() !== 0 ? 'needs root (chown)' : false }, async () => {
  const root = path.join(dir, 'root');
  await mkdir(path.join(root, 'data', 'deep'), { recursive: true, mode: 0o750 });
  await writeFile(path.join(root, 'data', 'deep', 'f'), 'image', { mode: 0o640 });
  await symlink('deep/f', path.join(root, 'data', 'link'));
  await chown(path.join(root, 'data'), 1000, 1000);
  await chown(path.join(root, 'data', 'deep', 'f'), 1000, 2000);
  await runChecked(['setfattr', '-n', 'user.berth', '-v', 'kept', path.join(root, 'data', 'deep', 'f')]);
  await runChecked(['setfattr', '-n', 'trusted.berth', '-v', 'also', path.join(root, 'data', 'deep')]);
  const volume = path.join(dir, 'vol');
  await mkdir(volume, { mode: 0o755 });
  assert.equal(await copyUp(root, '/data', volume), true);
  assert.equal(await readFile(path.join(volume, 'deep', 'f'), 'utf8'), 'image');
  const f = await stat(path.join(volume, 'deep', 'f'));
  assert.deepEqual([f.uid, f.gid, f.mode & 0o7777], [1000, 2000, 0o640]);
  assert.equal(await readlink(path.join(volume, 'link')), 'deep/f');
  const xattr = async (name: string, file: string): Promise<string> => (await runChecked(['getfattr', '--only-values', '-n', name, file])).stdout.toString();
  assert.equal(await xattr('user.berth', path.join(volume, 'deep', 'f')), 'kept');
  assert.equal(await xattr('trusted.berth', path.join(volume, 'deep')), 'also');
  const top = await lstat(volume);
  assert.deepEqual([top.uid, top.gid, top.mode & 0o7777], [1000, 1000, 0o750], "the volume's root takes the directory's owner and mode");
  // Not empty any more: never overwritten.
  await writeFile(path.join(root, 'data', 'deep', 'f'), 'changed');
  assert.equal(await copyUp(root, '/data', volume), false);
  assert.equal(await readFile(path.join(volume, 'deep', 'f'), 'utf8'), 'image');
  // Nothing (or not a directory) at the target: nothing to copy.
  const other = path.join(dir, 'vol2');
  await mkdir(other);
  assert.equal(await copyUp(root, '/missing', other), false);
  assert.equal(await copyUp(root, '/data/deep/f', other), false);
});
