/**
 * Layer application for real: whiteouts and opaque directories in overlay
 * form (checked on disk and through a real overlay mount) and in native form,
 * owners/modes/times/xattrs/hard links/symlinks/fifos, binary xattrs written
 * by GNU tar, hard links to lower layers, and the diff id.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { applyLayer, type ApplyMode } from '../../src/engine/snapshots/apply-layer';
import { mountAll, unmount } from '../../src/engine/snapshots/mount';
import { buildTar, streamOf, type TarEntry } from './build-tar';

const LOWER: TarEntry[] = [
  { name: 'a', body: 'a' },
  { name: 'b', body: 'b' },
  { name: 'd', type: 'directory' },
  { name: 'd/x', body: 'x' },
  { name: 'o', type: 'directory' },
  { name: 'o/old', body: 'old' },
  { name: 'o/sub', type: 'directory' },
  { name: 'o/sub/deep', body: 'deep' },
  { name: 'target', body: 'hard link me' },
];
const UPPER: TarEntry[] = [
  { name: '.wh.a' },
  { name: 'd', type: 'directory', mode: 0o750 },
  { name: 'd/.wh.x' },
  { name: 'o', type: 'directory' },
  { name: 'o/kept', body: 'same layer, before the marker' },
  { name: 'o/.wh..wh..opq' },
  { name: 'o/sub', type: 'directory' },
  { name: 'o/sub/new', body: 'new' },
  { name: 'link-to-lower', type: 'link', linkname: 'target' },
];
/** What the merged tree of LOWER + UPPER holds. */
const MERGED = ['b', 'd', 'link-to-lower', 'o', 'o/kept', 'o/sub', 'o/sub/new', 'target'];

async function listTree(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(path.join(root, rel))).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    out.push(r);
    if ((await lstat(path.join(root, r))).isDirectory()) out.push(...(await listTree(root, r)));
  }
  return out.sort();
}

describe('applyLayer', { timeout: 60_000 }, () => {
  let tmp = '';
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'berth-apply-'));
  });
  after(async () => {
    await unmount(path.join(tmp, 'merged'));
    await rm(tmp, { recursive: true, force: true });
  });

  it('writes overlay whiteouts and opaque markers that a real overlay mount honors', async () => {
    const lower = path.join(tmp, 'lower');
    const upper = path.join(tmp, 'upper');
    await mkdir(lower);
    await mkdir(upper);
    await mkdir(path.join(tmp, 'work'));
    await applyLayer(streamOf(await buildTar(LOWER)), lower, { mode: 'overlay' });
    await applyLayer(streamOf(await buildTar(UPPER)), upper, { mode: 'overlay', lowers: [lower] });
    const wh = await lstat(path.join(upper, 'a'));
    assert.ok(wh.isCharacterDevice());
    assert.equal(wh.rdev, 0);
    assert.ok((await lstat(path.join(upper, 'd', 'x'))).isCharacterDevice());
    const opaque = execFileSync('getfattr', ['--absolute-names', '--only-values', '-n', 'trusted.overlay.opaque', path.join(upper, 'o')]).toString();
    assert.equal(opaque, 'y');
    assert.equal((await lstat(path.join(upper, 'd'))).mode & 0o777, 0o750);
    // The hard link to a lower file was copied up; the lower file is untouched.
    assert.equal((await lstat(path.join(upper, 'target'))).ino, (await lstat(path.join(upper, 'link-to-lower'))).ino);
    assert.equal((await lstat(path.join(lower, 'target'))).nlink, 1);
    const merged = path.join(tmp, 'merged');
    await mountAll([{ type: 'overlay', source: 'overlay', options: [`lowerdir=${lower}`, `upperdir=${upper}`, `workdir=${path.join(tmp, 'work')}`] }], merged);
    try {
      assert.deepEqual(await listTree(merged), MERGED);
      assert.equal(await readFile(path.join(merged, 'link-to-lower'), 'utf8'), 'hard link me');
    } finally {
      await unmount(merged);
    }
  });

  it('deletes whiteouts and empties opaque directories in native mode', async () => {
    const full = path.join(tmp, 'native');
    await mkdir(full);
    await applyLayer(streamOf(await buildTar(LOWER)), full, { mode: 'native' });
    await applyLayer(streamOf(await buildTar(UPPER)), full, { mode: 'native' });
    assert.deepEqual(await listTree(full), MERGED);
    assert.equal((await lstat(path.join(full, 'target'))).nlink, 2);
  });

  for (const mode of ['overlay', 'native'] as ApplyMode[]) {
    it(`keeps owners, modes, times, xattrs, hard links, symlinks and fifos (${mode})`, async () => {
      const dir = await mkdtemp(path.join(tmp, `meta-${mode}-`));
      const mtime = new Date('2001-02-03T04:05:06Z');
      const tar = await buildTar([
        { name: 'bin', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime },
        { name: 'bin/suid', body: 'x', mode: 0o4755, uid: 1000, gid: 2000, mtime, pax: { 'SCHILY.xattr.user.note': 'hello' } },
        { name: 'bin/sgid', body: 'x', mode: 0o2711, uid: 3, gid: 4 },
        { name: 'bin/hard', type: 'link', linkname: 'bin/suid' },
        { name: 'bin/sym', type: 'symlink', linkname: 'suid', uid: 33, gid: 44 },
        { name: 'tmp', type: 'directory', mode: 0o1777, mtime },
        { name: 'fifo', type: 'fifo', mode: 0o600, uid: 7, gid: 8 },
        { name: 'forged', body: 'x', pax: { 'SCHILY.xattr.trusted.overlay.opaque': 'y' } },
      ]);
      const result = await applyLayer(streamOf(tar), dir, { mode });
      assert.equal(result.diffId, `sha256:${createHash('sha256').update(tar).digest('hex')}`);
      assert.equal(result.size, tar.length);
      const suid = await lstat(path.join(dir, 'bin/suid'));
      assert.deepEqual([suid.uid, suid.gid, suid.mode & 0o7777, suid.mtime.getTime()], [1000, 2000, 0o4755, mtime.getTime()]);
      assert.equal(suid.nlink, 2);
      assert.equal((await lstat(path.join(dir, 'bin/hard'))).ino, suid.ino);
      assert.equal((await lstat(path.join(dir, 'bin/sgid'))).mode & 0o7777, 0o2711);
      const sym = await lstat(path.join(dir, 'bin/sym'));
      assert.deepEqual([sym.isSymbolicLink(), sym.uid, sym.gid], [true, 33, 44]);
      assert.equal(await readlink(path.join(dir, 'bin/sym')), 'suid');
      const tmpDir = await lstat(path.join(dir, 'tmp'));
      assert.deepEqual([tmpDir.mode & 0o7777, tmpDir.mtime.getTime()], [0o1777, mtime.getTime()]);
      assert.equal((await lstat(path.join(dir, 'bin'))).mtime.getTime(), mtime.getTime(), 'directory times are set after their content');
      const fifo = await lstat(path.join(dir, 'fifo'));
      assert.deepEqual([fifo.isFIFO(), fifo.mode & 0o7777, fifo.uid, fifo.gid], [true, 0o600, 7, 8]);
      assert.equal(execFileSync('getfattr', ['--absolute-names', '--only-values', '-n', 'user.note', path.join(dir, 'bin/suid')]).toString(), 'hello');
      const forged = execFileSync('getfattr', ['--absolute-names', '-d', '-m', '-', path.join(dir, 'forged')]).toString();
      assert.doesNotMatch(forged, /overlay/, 'a layer cannot set overlayfs xattrs');
    });
  }

  it('keeps binary xattrs byte for byte (a tar written by GNU tar)', async () => {
    const src = path.join(tmp, 'gnu-src');
    await mkdir(src);
    await writeFile(path.join(src, 'ping'), 'binary');
    // A file capability-like value with bytes that are not UTF-8.
    execFileSync('setfattr', ['-n', 'user.bin', '-v', '0sAQAAAgAgAAAAAAAAAP8AAP7/', path.join(src, 'ping')]);
    const tar = execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-C', src, '-cf', '-', 'ping']);
    const dest = path.join(tmp, 'gnu-dest');
    await mkdir(dest);
    await applyLayer(streamOf(tar), dest, { mode: 'overlay' });
    const value = execFileSync('getfattr', ['--absolute-names', '--only-values', '-n', 'user.bin', path.join(dest, 'ping')]);
    assert.deepEqual(value, Buffer.from('AQAAAgAgAAAAAAAAAP8AAP7/', 'base64'));
  });
});
