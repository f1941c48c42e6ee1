/**
 * LayerUnpacker over both real snapshotters: gzip (zlib), zstd (the zstd
 * binary) and plain layers, diff id checks, stale extractions, a 100-layer
 * chain mounted through short links, and the apply rate of a ~100 MB layer.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import type { Digest } from '../../src/api/types/oci';
import { BerthError } from '../../src/common/errors';
import { silentLogger } from '../../src/common/log';
import type { LayerSnapshotter } from '../../src/engine/snapshots/dir-snapshotter';
import { mountAll, unmount } from '../../src/engine/snapshots/mount';
import { NativeSnapshotter } from '../../src/engine/snapshots/native';
import { OverlaySnapshotter } from '../../src/engine/snapshots/overlay';
import { chainIds, LayerUnpacker, type LayerToUnpack } from '../../src/engine/snapshots/unpacker';
import { buildTar, type TarEntry } from './build-tar';

const sha = (b: Buffer): Digest => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const MEDIA = { gzip: 'application/vnd.oci.image.layer.v1.tar+gzip', zstd: 'application/vnd.oci.image.layer.v1.tar+zstd', none: 'application/vnd.oci.image.layer.v1.tar' };

type Compression = keyof typeof MEDIA;

function compress(tar: Buffer, how: Compression): Buffer {
  if (how === 'gzip') return gzipSync(tar);
  if (how === 'zstd') return execFileSync('zstd', ['-q', '-c', '-3'], { input: tar, maxBuffer: 1 << 30 });
  return tar;
}

/** Blobs by digest and the layer list for a chain of tars. */
function layersOf(tars: readonly { tar: Buffer; how: Compression }[]): { layers: LayerToUnpack[]; blobs: Map<string, Buffer> } {
  const blobs = new Map<string, Buffer>();
  const diffIds = tars.map((t) => sha(t.tar));
  const chain = chainIds(diffIds);
  const layers = tars.map((t, i) => {
    const blob = compress(t.tar, t.how);
    const digest = sha(blob);
    blobs.set(digest, blob);
    return { digest, mediaType: MEDIA[t.how], diffId: diffIds[i] ?? sha(t.tar), chainId: chain[i] ?? digest };
  });
  return { layers, blobs };
}

function opener(blobs: Map<string, Buffer>): (d: Digest) => Readable {
  return (d) => {
    const b = blobs.get(d);
    if (!b) throw new Error(`no blob ${d}`);
    return Readable.from([b.subarray(0, b.length >> 1), b.subarray(b.length >> 1)]);
  };
}

async function withView<T>(sn: LayerSnapshotter, parent: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const key = `view-${randomBytes(4).toString('hex')}`;
  const target = await mkdtemp(path.join(os.tmpdir(), 'berth-view-'));
  try {
    await mountAll(await sn.view(key, parent), target);
    return await fn(target);
  } finally {
    await unmount(target);
    await rm(target, { recursive: true, force: true });
    await sn.remove(key);
  }
}

const FACTORIES: [string, (root: string) => LayerSnapshotter][] = [
  ['overlay', (root) => new OverlaySnapshotter(root)],
  ['native', (root) => new NativeSnapshotter(root)],
];

it('computes ChainIDs as the image spec says', () => {
  const a: Digest = `sha256:${'a'.repeat(64)}`;
  const b: Digest = `sha256:${'b'.repeat(64)}`;
  const [c0, c1] = chainIds([a, b]);
  assert.equal(c0, a);
  assert.equal(c1, `sha256:${createHash('sha256').update(`${a} ${b}`).digest('hex')}`);
});

for (const [name, factory] of FACTORIES) {
  describe(`LayerUnpacker over ${name} snapshots`, { timeout: 180_000 }, () => {
    const withRoot = async (fn: (sn: LayerSnapshotter) => Promise<void>): Promise<void> => {
      const tmp = await mkdtemp(path.join(os.tmpdir(), `berth-unpack-${name}-`));
      try {
        await fn(factory(path.join(tmp, 'root')));
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    };

    it('unpacks gzip, zstd and plain layers into committed ChainID snapshots', () =>
      withRoot(async (sn) => {
        const tars = [
          { tar: await buildTar([{ name: 'etc', type: 'directory' }, { name: 'etc/os', body: 'base' }, { name: 'gone', body: 'x' }]), how: 'gzip' as const },
          { tar: await buildTar([{ name: 'etc/os', body: 'patched' }, { name: '.wh.gone' }]), how: 'zstd' as const },
          { tar: await buildTar([{ name: 'app', body: 'app' }]), how: 'none' as const },
        ];
        const { layers, blobs } = layersOf(tars);
        const progress: string[] = [];
        const unpacker = new LayerUnpacker(sn, silentLogger());
        await unpacker.ensureChain(layers, opener(blobs), { onProgress: (p) => progress.push(p.status) });
        for (const l of layers) assert.equal((await sn.stat(l.chainId)).kind, 'committed');
        assert.equal((await sn.stat(layers[2]?.chainId ?? '')).parent, layers[1]?.chainId);
        assert.deepEqual(progress.filter((s) => s === 'Pull complete').length, 3);
        await withView(sn, layers[2]?.chainId ?? '', async (dir) => {
          assert.deepEqual((await readdir(dir)).sort(), ['app', 'etc']);
          assert.equal(await readFile(path.join(dir, 'etc/os'), 'utf8'), 'patched');
        });
        // Already there: nothing is opened again.
        await unpacker.ensureChain(layers, () => assert.fail('no blob should be read'), {});
      }));

    it('refuses a layer whose diff id does not match and leaves no snapshot behind', () =>
      withRoot(async (sn) => {
        const { layers, blobs } = layersOf([{ tar: await buildTar([{ name: 'f', body: 'x' }]), how: 'gzip' }]);
        const wrong = layers.map((l) => ({ ...l, diffId: sha(Buffer.from('other')), chainId: sha(Buffer.from('other')) }));
        await assert.rejects(new LayerUnpacker(sn, silentLogger()).ensureChain(wrong, opener(blobs)), (err: unknown) => {
          assert.ok(BerthError.is(err, 'invalid_argument'));
          assert.match(err.message, /does not match the image/);
          return true;
        });
        const left: string[] = [];
        await sn.walk((i) => void left.push(i.key));
        assert.deepEqual(left, []);
      }));

    it('refuses a hostile layer and removes its extraction snapshot', () =>
      withRoot(async (sn) => {
        const { layers, blobs } = layersOf([{ tar: await buildTar([{ name: '../../x', body: 'x' }]), how: 'zstd' }]);
        await assert.rejects(new LayerUnpacker(sn, silentLogger()).ensureChain(layers, opener(blobs)), /escapes the layer root/);
        const left: string[] = [];
        await sn.walk((i) => void left.push(i.key));
        assert.deepEqual(left, []);
      }));

    it('removes extractions a killed daemon left, then unpacks again', () =>
      withRoot(async (sn) => {
        const { layers, blobs } = layersOf([{ tar: await buildTar([{ name: 'f', body: 'x' }]), how: 'none' }]);
        const chainId = layers[0]?.chainId ?? '';
        await sn.prepare(`extract-deadbeef-${chainId}`);
        await sn.prepare('container-keep');
        const unpacker = new LayerUnpacker(sn, silentLogger());
        assert.equal(await unpacker.cleanupStale(), 1);
        await assert.rejects(sn.stat(`extract-deadbeef-${chainId}`), /not found/);
        assert.equal((await sn.stat('container-keep')).kind, 'active');
        await unpacker.ensureChain(layers, opener(blobs));
        assert.equal((await sn.stat(chainId)).kind, 'committed');
      }));
  });
}

describe('deep chains and throughput', { timeout: 300_000 }, () => {
  it('unpacks a 100-layer image and mounts it through short links', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'berth-unpack-deep-'));
    try {
      const sn = new OverlaySnapshotter(path.join(tmp, 'root'));
      const tars = [];
      for (let i = 0; i < 100; i++) tars.push({ tar: await buildTar([{ name: `f${String(i).padStart(3, '0')}`, body: String(i) }]), how: 'gzip' as const });
      const { layers, blobs } = layersOf(tars);
      await new LayerUnpacker(sn, silentLogger()).ensureChain(layers, opener(blobs));
      const prepared = await sn.prepare('container', layers[99]?.chainId);
      assert.equal(prepared[0]?.options.find((o) => o.startsWith('lowerdir='))?.split(':').length, 100);
      const target = path.join(tmp, 'rootfs');
      await mountAll(prepared, target);
      try {
        const files = await readdir(target);
        assert.equal(files.length, 100);
        assert.equal(await readFile(path.join(target, 'f042'), 'utf8'), '42');
      } finally {
        await unmount(target);
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('applies a ~100 MB layer (reports MB/s)', async (t) => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'berth-unpack-rate-'));
    try {
      const entries: TarEntry[] = [{ name: 'big', type: 'directory' }];
      for (let i = 0; i < 80; i++) entries.push({ name: `big/blob${i}`, body: randomBytes(1024 * 1024) });
      for (let i = 0; i < 2000; i++) entries.push({ name: `small/d${i % 50}/f${i}`, body: randomBytes(10 * 1024).toString('hex') });
      const tar = await buildTar(entries);
      const mb = tar.length / 1e6;
      for (const how of ['none', 'gzip', 'zstd'] as const) {
        const sn = new OverlaySnapshotter(path.join(tmp, `root-${how}`));
        const { layers, blobs } = layersOf([{ tar, how }]);
        const start = process.hrtime.bigint();
        await new LayerUnpacker(sn, silentLogger()).ensureChain(layers, opener(blobs));
        const s = Number(process.hrtime.bigint() - start) / 1e9;
        t.diagnostic(`${how}: ${mb.toFixed(0)} MB tar (${(blobs.values().next().value?.length ?? 0) / 1e6} MB blob) applied in ${s.toFixed(2)} s: ${(mb / s).toFixed(0)} MB/s`);
        assert.equal((await sn.stat(layers[0]?.chainId ?? '')).kind, 'committed');
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
