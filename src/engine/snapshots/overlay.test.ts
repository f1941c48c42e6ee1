/** The snapshotter contract against the overlay snapshotter (root: real mounts), with a 120-layer chain. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { snapshotterContract } from './contract';
import { mountAll, unmount } from './mount';
import { OverlaySnapshotter } from './overlay';

snapshotterContract('overlay', (root) => new OverlaySnapshotter(root), { deepChain: 120 });

describe('overlay snapshotter short links', () => {
  it('names lower layers by short links relative to its root', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'berth-overlay-'));
    try {
      const sn = new OverlaySnapshotter(path.join(tmp, 'root'));
      let parent: string | undefined;
      for (let i = 0; i < 3; i++) {
        const key = `a${i}`;
        await sn.prepare(key, parent);
        await sn.commit(`c${i}`, key);
        parent = `c${i}`;
      }
      const [m] = await sn.prepare('top', parent);
      assert.equal(m?.type, 'overlay');
      assert.equal(m?.cwd, sn.root);
      const lowerdir = m?.options.find((o) => o.startsWith('lowerdir='))?.slice('lowerdir='.length) ?? '';
      const links = lowerdir.split(':');
      assert.equal(links.length, 3);
      for (const l of links) assert.match(l, /^l\/[A-Z0-9]{12}$/);
      const top = (await sn.applyTarget('top')).lowers[0];
      assert.equal(await sn.resolveLink(links[0]?.slice(2) ?? ''), top);
      const upper = `upperdir=${(await sn.applyTarget('top')).dir}`;
      assert.ok(m?.options.includes(upper));
      await readFile(path.join(sn.root, 'metadata.json'));
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('mounts the deepest chain whose options fit in a page, and refuses a deeper one before making anything', { timeout: 120_000 }, async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'berth-overlay-'));
    const target = path.join(tmp, 'mnt');
    try {
      const sn = new OverlaySnapshotter(path.join(tmp, 'root'));
      let parent: string | undefined;
      let depth = 0;
      for (;;) {
        const refused = await sn.prepare(`a${depth}`, parent).then(
          () => undefined,
          (err: unknown) => err,
        );
        if (refused) {
          assert.ok(refused instanceof Error);
          assert.match(refused.message, /more than the kernel's 4095/);
          break;
        }
        await sn.commit(`c${depth}`, `a${depth}`);
        parent = `c${depth}`;
        depth++;
      }
      assert.ok(depth > 250, `only ${depth} layers fit`);
      await assert.rejects(sn.stat(`a${depth}`), /not found/);
      await sn.remove(`c${depth - 1}`);
      const mounts = await sn.prepare('top', `c${depth - 2}`);
      assert.ok((mounts[0]?.options.join(',').length ?? 0) > 4000);
      await mountAll(mounts, target);
      await writeFile(path.join(target, 'deep'), 'ok');
      assert.equal(await readFile(path.join(target, 'deep'), 'utf8'), 'ok');
    } finally {
      await unmount(target);
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
