/**
 * The hostile-layer corpus: each tar must be refused with an
 * invalid_argument error naming the problem, in both apply modes, and
 * nothing may appear, vanish or change outside the target directory.
 */
import assert from 'node:assert/strict';
import { readFile, readlink, lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { BerthError } from '../../src/common/errors';
import { applyLayer, type ApplyLimits, type ApplyMode } from '../../src/engine/snapshots/apply-layer';
import { buildTar, sandbox, streamOf, type TarEntry } from './build-tar';

interface HostileCase {
  readonly name: string;
  /** Built with the sandbox's canary path (an absolute path outside the target). */
  readonly entries: (canary: string) => TarEntry[];
  readonly error: RegExp;
  readonly limits?: Partial<ApplyLimits>;
}

const CASES: HostileCase[] = [
  { name: 'parent traversal', entries: () => [{ name: '../escape', body: 'x' }], error: /"\.\.\/escape": the path escapes the layer root/ },
  { name: 'traversal inside the path', entries: () => [{ name: 'a/../../escape', body: 'x' }], error: /escapes the layer root/ },
  { name: 'absolute path that escapes', entries: () => [{ name: '/x/../../escape', body: 'x' }], error: /escapes the layer root/ },
  { name: 'traversal to the canary', entries: (c) => [{ name: `../${path.basename(c)}/keep`, body: 'owned' }], error: /escapes the layer root/ },
  {
    name: 'file through an absolute symlink',
    entries: (c) => [{ name: 'link', type: 'symlink', linkname: c }, { name: 'link/keep', body: 'owned' }],
    error: /"link\/keep": it goes through the symbolic link "link"/,
  },
  {
    name: 'file through a relative symlink',
    entries: () => [{ name: 'up', type: 'symlink', linkname: '../canary' }, { name: 'up/new', body: 'x' }],
    error: /goes through the symbolic link "up"/,
  },
  {
    name: 'directory through a symlink',
    entries: (c) => [{ name: 'a', type: 'directory' }, { name: 'a/link', type: 'symlink', linkname: c }, { name: 'a/link/sub', type: 'directory' }],
    error: /goes through the symbolic link "a\/link"/,
  },
  {
    name: 'whiteout through a symlink',
    entries: (c) => [{ name: 'link', type: 'symlink', linkname: c }, { name: 'link/.wh.keep' }],
    error: /goes through the symbolic link "link"/,
  },
  {
    name: 'opaque marker through a symlink',
    entries: (c) => [{ name: 'link', type: 'symlink', linkname: c }, { name: 'link/.wh..wh..opq' }],
    error: /goes through the symbolic link "link"/,
  },
  {
    name: 'file through a directory replaced by a symlink',
    entries: (c) => [
      { name: 'a/b/first', body: 'x' },
      { name: 'a', type: 'symlink', linkname: c },
      { name: 'a/b/second', body: 'x' },
    ],
    error: /"a\/b\/second": it goes through the symbolic link "a"/,
  },
  {
    name: 'file through a symlink replacing a checked directory',
    entries: (c) => [{ name: 'd', type: 'directory' }, { name: 'd/x', body: 'x' }, { name: 'd', type: 'symlink', linkname: c }, { name: 'd/keep', body: 'owned' }],
    error: /goes through the symbolic link "d"/,
  },
  { name: 'whiteout of the parent', entries: () => [{ name: 'a/.wh..' }], error: /an invalid whiteout/ },
  { name: 'hard link outside', entries: () => [{ name: 'h', type: 'link', linkname: '../canary/keep' }], error: /escapes the layer root/ },
  { name: 'hard link to an absolute host path', entries: (c) => [{ name: 'h', type: 'link', linkname: path.join(c, 'keep') }], error: /which is not in this layer or below/ },
  { name: 'hard link to a missing file', entries: () => [{ name: 'h', type: 'link', linkname: 'nothing' }], error: /hard link to "nothing", which is not in this layer or below/ },
  {
    name: 'hard link through a symlink',
    entries: (c) => [{ name: 'link', type: 'symlink', linkname: c }, { name: 'h', type: 'link', linkname: 'link/keep' }],
    error: /goes through the symbolic link "link"/,
  },
  { name: 'hard link to a directory', entries: () => [{ name: 'd', type: 'directory' }, { name: 'h', type: 'link', linkname: 'd' }], error: /hard link to a directory/ },
  { name: 'character device', entries: () => [{ name: 'null', type: 'character-device', devmajor: 1, devminor: 3 }], error: /"null": device nodes are not allowed/ },
  { name: 'whiteout-like device', entries: () => [{ name: 'wh', type: 'character-device', devmajor: 0, devminor: 0 }], error: /device nodes are not allowed/ },
  { name: 'block device', entries: () => [{ name: 'sda', type: 'block-device', devmajor: 8, devminor: 0 }], error: /device nodes are not allowed/ },
  { name: 'NUL in a name', entries: () => [{ name: 'x', pax: { path: 'a\u0000b' }, body: 'x' }], error: /contains a NUL byte/ },
  { name: 'NUL in a link target', entries: () => [{ name: 'l', type: 'symlink', linkname: 'x', pax: { linkpath: 'a\u0000b' } }], error: /NUL byte/ },
  { name: 'entry over the size limit', entries: () => [{ name: 'big', body: Buffer.alloc(4096) }], limits: { maxEntrySize: 1024 }, error: /"big": its size 4096 exceeds the limit of 1024 bytes/ },
  {
    name: 'layer over the total limit',
    entries: () => [{ name: 'a', body: Buffer.alloc(800) }, { name: 'b', body: Buffer.alloc(800) }],
    limits: { maxTotalSize: 1000 },
    error: /"b": the layer exceeds the limit of 1000 bytes/,
  },
  { name: 'too many entries', entries: () => [1, 2, 3, 4].map((i) => ({ name: `f${i}`, body: '' })), limits: { maxEntries: 3 }, error: /"f4": the layer has more than 3 entries/ },
  { name: 'non-directory root', entries: () => [{ name: './', type: 'symlink', linkname: '/' }], error: /the layer root must be a directory/ },
];

async function refused(mode: ApplyMode, c: HostileCase): Promise<void> {
  const box = await sandbox();
  try {
    const tar = await buildTar(c.entries(box.canary));
    await assert.rejects(applyLayer(streamOf(tar), box.target, { mode, ...(c.limits ? { limits: c.limits } : {}) }), (err: unknown) => {
      assert.ok(BerthError.is(err, 'invalid_argument'), `expected invalid_argument, got ${String(err)}`);
      assert.match(err.message, c.error);
      return true;
    });
    await box.assertUntouched();
  } finally {
    await box.dispose();
  }
}

for (const mode of ['overlay', 'native'] as const) {
  describe(`hostile layers (${mode} mode)`, { timeout: 60_000 }, () => {
    for (const c of CASES) it(`refuses: ${c.name}`, () => refused(mode, c));

    it('refuses a truncated archive', async () => {
      const box = await sandbox();
      try {
        const tar = await buildTar([{ name: 'f', body: Buffer.alloc(5000, 1) }]);
        await assert.rejects(applyLayer(streamOf(tar.subarray(0, 2000)), box.target, { mode }), (err: unknown) => BerthError.is(err, 'invalid_argument'));
        await box.assertUntouched();
      } finally {
        await box.dispose();
      }
    });

    it('replaces (never follows) an existing symlink that an entry overwrites', async () => {
      const box = await sandbox();
      try {
        const tar = await buildTar([
          { name: 'f', type: 'symlink', linkname: path.join(box.canary, 'keep') },
          { name: 'f', body: 'mine' },
          { name: 'd', type: 'symlink', linkname: box.canary },
          { name: 'd', type: 'directory' },
          { name: 'd/inside', body: 'in' },
          { name: '/abs/ok', body: 'leading slash is dropped' },
        ]);
        await applyLayer(streamOf(tar), box.target, { mode });
        await box.assertUntouched();
        assert.equal(await readFile(path.join(box.target, 'f'), 'utf8'), 'mine');
        assert.ok((await lstat(path.join(box.target, 'd'))).isDirectory());
        assert.deepEqual(await readdir(path.join(box.target, 'd')), ['inside']);
        assert.equal(await readFile(path.join(box.target, 'abs', 'ok'), 'utf8'), 'leading slash is dropped');
      } finally {
        await box.dispose();
      }
    });

    it('keeps symlinks that point outside as they are (they resolve inside the container)', async () => {
      const box = await sandbox();
      try {
        await applyLayer(streamOf(await buildTar([{ name: 'etc-link', type: 'symlink', linkname: '/etc/passwd' }, { name: 'up', type: 'symlink', linkname: '../../..' }])), box.target, { mode });
        assert.equal(await readlink(path.join(box.target, 'etc-link')), '/etc/passwd');
        assert.equal(await readlink(path.join(box.target, 'up')), '../../..');
        await box.assertUntouched();
      } finally {
        await box.dispose();
      }
    });
  });
}
