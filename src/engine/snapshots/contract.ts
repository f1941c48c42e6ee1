/**
 * The contract every Snapshotter passes (after containerd's SnapshotterSuite).
 * It mounts what the snapshotter returns with the real `mount` binary, so it
 * needs root. Each case gets a fresh root in a temp dir; mounts are undone
 * and the dir removed even when a case fails.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chown, link, lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, symlink, writeFile, chmod, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { BerthError, type ErrorCode } from '../../common/errors';
import { mountAll, unmount } from './mount';
import type { MountSpec, Snapshotter } from './types';

export type SnapshotterFactory = (root: string) => Snapshotter;

function isCode(code: ErrorCode): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(BerthError.is(err), `expected a BerthError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  };
}

export function snapshotterContract(name: string, factory: SnapshotterFactory, options: { deepChain?: number } = {}): void {
  void describe(`snapshotter contract: ${name}`, { timeout: 120_000 }, () => {
    let tmp = '';
    let sn: Snapshotter;
    let targets: string[] = [];

    beforeEach(async () => {
      tmp = await mkdtemp(path.join(os.tmpdir(), `berth-snap-${name}-`));
      sn = factory(path.join(tmp, 'root'));
      targets = [];
    });

    afterEach(async () => {
      for (const t of targets.reverse()) await unmount(t);
      await rm(tmp, { recursive: true, force: true });
    });

    /** Mounts `mounts` on a fresh dir, runs `fn` on it, unmounts. */
    async function withMount<T>(mounts: readonly MountSpec[], fn: (dir: string) => Promise<T>): Promise<T> {
      const target = await mkdtemp(path.join(tmp, 'mnt-'));
      targets.push(target);
      await mountAll(mounts, target);
      try {
        return await fn(target);
      } finally {
        await unmount(target);
        targets = targets.filter((t) => t !== target);
      }
    }

    /** A committed snapshot `name` (on `parent`) whose root gets `fill`. */
    async function committed(snapshot: string, parent: string | undefined, fill: (dir: string) => Promise<void>): Promise<void> {
      const key = `${snapshot}-active`;
      await withMount(await sn.prepare(key, parent), fill);
      await sn.commit(snapshot, key);
    }

    void it('prepares a writable root and commits it', async () => {
      await withMount(await sn.prepare('a', undefined, { labels: { role: 'base' } }), async (dir) => {
        await writeFile(path.join(dir, 'hello'), 'hi');
        await mkdir(path.join(dir, 'sub'));
      });
      assert.equal((await sn.stat('a')).kind, 'active');
      await sn.commit('base', 'a', { labels: { extra: 'yes' } });
      const info = await sn.stat('base');
      assert.equal(info.kind, 'committed');
      assert.equal(info.parent, undefined);
      assert.deepEqual(info.labels, { role: 'base', extra: 'yes' });
      await assert.rejects(sn.stat('a'), isCode('not_found'));
      await withMount(await sn.view('v', 'base'), async (dir) => {
        assert.equal(await readFile(path.join(dir, 'hello'), 'utf8'), 'hi');
        await assert.rejects(writeFile(path.join(dir, 'new'), 'x'), { code: 'EROFS' });
        await assert.rejects(writeFile(path.join(dir, 'hello'), 'x'), { code: 'EROFS' });
      });
      assert.equal((await sn.stat('v')).kind, 'view');
      assert.equal((await sn.stat('v')).parent, 'base');
    });

    void it('keeps writes in an active snapshot out of its parent and siblings', async () => {
      await committed('base', undefined, async (dir) => {
        await writeFile(path.join(dir, 'f1'), 'one');
        await writeFile(path.join(dir, 'f2'), 'two');
        await mkdir(path.join(dir, 'd'));
        await writeFile(path.join(dir, 'd', 'f3'), 'three');
      });
      await committed('top', 'base', async (dir) => {
        assert.equal(await readFile(path.join(dir, 'f1'), 'utf8'), 'one');
        await writeFile(path.join(dir, 'f1'), 'changed');
        await rm(path.join(dir, 'f2'));
        await rm(path.join(dir, 'd'), { recursive: true });
        await writeFile(path.join(dir, 'n1'), 'new');
      });
      await withMount(await sn.prepare('sibling', 'base'), async (dir) => {
        assert.deepEqual((await readdir(dir)).sort(), ['d', 'f1', 'f2']);
        assert.equal(await readFile(path.join(dir, 'f1'), 'utf8'), 'one');
      });
      await withMount(await sn.view('base-view', 'base'), async (dir) => {
        assert.deepEqual((await readdir(dir)).sort(), ['d', 'f1', 'f2']);
        assert.equal(await readFile(path.join(dir, 'd', 'f3'), 'utf8'), 'three');
      });
      await withMount(await sn.view('top-view', 'top'), async (dir) => {
        assert.deepEqual((await readdir(dir)).sort(), ['f1', 'n1']);
        assert.equal(await readFile(path.join(dir, 'f1'), 'utf8'), 'changed');
      });
    });

    void it('keeps owners, modes, xattrs, hard links, symbolic links and fifos across commits', async () => {
      await committed('meta', undefined, async (dir) => {
        await writeFile(path.join(dir, 'suid'), '#!/bin/sh\n');
        await chown(path.join(dir, 'suid'), 1234, 5678);
        await chmod(path.join(dir, 'suid'), 0o4755);
        await mkdir(path.join(dir, 'tmp'));
        await chmod(path.join(dir, 'tmp'), 0o1777);
        await symlink('../target', path.join(dir, 'link'));
        await link(path.join(dir, 'suid'), path.join(dir, 'hard'));
        execFileSync('mkfifo', [path.join(dir, 'fifo')]);
        execFileSync('setfattr', ['-n', 'user.berth', '-v', 'kept', path.join(dir, 'suid')]);
      });
      await withMount(await sn.prepare('child', 'meta'), async (dir) => {
        const st = await stat(path.join(dir, 'suid'));
        assert.equal(st.uid, 1234);
        assert.equal(st.gid, 5678);
        assert.equal(st.mode & 0o7777, 0o4755);
        assert.equal((await stat(path.join(dir, 'tmp'))).mode & 0o7777, 0o1777);
        assert.equal(await readlink(path.join(dir, 'link')), '../target');
        assert.equal((await stat(path.join(dir, 'hard'))).ino, st.ino);
        assert.equal(st.nlink, 2);
        assert.ok((await lstat(path.join(dir, 'fifo'))).isFIFO());
        assert.equal(execFileSync('getfattr', ['--absolute-names', '--only-values', '-n', 'user.berth', path.join(dir, 'suid')]).toString(), 'kept');
      });
    });

    void it('gives the mounts of active snapshots and views, not of committed ones', async () => {
      await committed('base', undefined, (dir) => writeFile(path.join(dir, 'f'), 'x'));
      const prepared = await sn.prepare('work', 'base');
      assert.deepEqual(await sn.mounts('work'), prepared);
      const viewed = await sn.view('look', 'base');
      assert.deepEqual(await sn.mounts('look'), viewed);
      await assert.rejects(sn.mounts('base'), isCode('failed_precondition'));
      await assert.rejects(sn.mounts('missing'), isCode('not_found'));
      await withMount(await sn.mounts('work'), async (dir) => assert.equal(await readFile(path.join(dir, 'f'), 'utf8'), 'x'));
    });

    void it('answers typed errors', async () => {
      await committed('base', undefined, () => Promise.resolve());
      await sn.prepare('act', 'base');
      await sn.view('vw', 'base');
      await assert.rejects(sn.prepare('act', 'base'), isCode('already_exists'));
      await assert.rejects(sn.view('vw'), isCode('already_exists'));
      await assert.rejects(sn.prepare('x', 'nope'), isCode('not_found'));
      await assert.rejects(sn.prepare('x', 'act'), isCode('invalid_argument'));
      await assert.rejects(sn.view('x', 'vw'), isCode('invalid_argument'));
      await assert.rejects(sn.stat('x'), isCode('not_found'));
      await assert.rejects(sn.commit('c', 'nope'), isCode('not_found'));
      await assert.rejects(sn.commit('c', 'vw'), isCode('failed_precondition'));
      await assert.rejects(sn.commit('c', 'base'), isCode('failed_precondition'));
      await assert.rejects(sn.commit('base', 'act'), isCode('already_exists'));
      await assert.rejects(sn.remove('nope'), isCode('not_found'));
      await assert.rejects(sn.remove('base'), isCode('failed_precondition'));
      assert.equal((await sn.stat('act')).kind, 'active', 'a failed commit leaves the active snapshot as it was');
    });

    void it('removes children then parents, and walks what is left', async () => {
      await committed('base', undefined, () => Promise.resolve());
      await committed('mid', 'base', () => Promise.resolve());
      await sn.prepare('c1', 'mid');
      await sn.view('v1', 'base');
      const seen = new Map<string, string>();
      await sn.walk((info) => void seen.set(info.key, `${info.kind}:${info.parent ?? ''}`));
      assert.deepEqual(Object.fromEntries(seen), { base: 'committed:', mid: 'committed:base', c1: 'active:mid', v1: 'view:base' });
      await assert.rejects(sn.remove('mid'), isCode('failed_precondition'));
      await sn.remove('c1');
      await sn.remove('mid');
      await sn.remove('v1');
      await sn.remove('base');
      const left: string[] = [];
      await sn.walk((info) => void left.push(info.key));
      assert.deepEqual(left, []);
      await withMount(await sn.prepare('base'), (dir) => writeFile(path.join(dir, 'again'), 'ok'));
    });

    void it('keeps its state for a new instance on the same root', async () => {
      await committed('base', undefined, (dir) => writeFile(path.join(dir, 'f'), 'persisted'));
      await sn.prepare('act', 'base', { labels: { a: 'b' } });
      const again = factory(path.join(tmp, 'root'));
      assert.deepEqual(await again.stat('act'), await sn.stat('act'));
      await withMount(await again.mounts('act'), async (dir) => assert.equal(await readFile(path.join(dir, 'f'), 'utf8'), 'persisted'));
    });

    void it('prepares many snapshots at once', async () => {
      await committed('base', undefined, (dir) => writeFile(path.join(dir, 'f'), 'x'));
      await Promise.all(Array.from({ length: 20 }, (_, i) => sn.prepare(`p${i}`, 'base')));
      let count = 0;
      await sn.walk(() => void count++);
      assert.equal(count, 21);
    });

    const depth = options.deepChain ?? 8;
    void it(`mounts a chain of ${depth} layers`, async () => {
      let parent: string | undefined;
      for (let i = 0; i < depth; i++) {
        await committed(`layer${i}`, parent, async (dir) => {
          await writeFile(path.join(dir, `file${i}`), String(i));
          if (i > 0) await rm(path.join(dir, `file${i - 1}`));
        });
        parent = `layer${i}`;
      }
      await withMount(await sn.prepare('top', parent), async (dir) => {
        assert.deepEqual(await readdir(dir), [`file${depth - 1}`]);
        assert.equal(await readFile(path.join(dir, `file${depth - 1}`), 'utf8'), String(depth - 1));
      });
    });
  });
}
