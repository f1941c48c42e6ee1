/**
 * A real-sized image (debootstrap'd Debian bookworm) pulled from the local
 * registry: unpacked and verified, with the download rate reported.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ImageManifest } from '../../src/api/types/oci';
import { parseReference } from '../../src/engine/images/reference';
import { startRegistry, type Registry } from '../support/registry';
import { ensureDebianImage } from '../support/test-images';
import { imageStoreEnv, type ImageStoreEnv } from './env';

describe('pull of a Debian image', { timeout: 300_000 }, () => {
  let registry: Registry;
  let ref = '';
  const envs: ImageStoreEnv[] = [];
  before(async () => {
    registry = await startRegistry();
    ref = await ensureDebianImage(registry);
  });
  after(async () => {
    await registry?.stop();
    for (const e of envs) await e.dispose();
  });

  it('downloads, verifies and unpacks it, reporting the rate', async (t) => {
    const e = await imageStoreEnv();
    envs.push(e);
    const r = parseReference(ref);
    const manifest = JSON.parse((await e.registry.getManifest(r, 'bookworm')).body.toString('utf8')) as ImageManifest;
    const bytes = manifest.layers.reduce((n, l) => n + l.size, 0);
    let start = process.hrtime.bigint();
    for (const l of manifest.layers) await e.registry.fetchBlob(r, l.digest, l.size, e.content);
    const downloadS = Number(process.hrtime.bigint() - start) / 1e9;
    const fresh = await imageStoreEnv();
    envs.push(fresh);
    start = process.hrtime.bigint();
    const image = await fresh.images.pull(ref);
    const pullS = Number(process.hrtime.bigint() - start) / 1e9;
    assert.equal(image.size, bytes);
    assert.equal((await fresh.snapshotter.stat(image.layers.at(-1)?.chainId ?? '')).kind, 'committed');
    const mb = bytes / 1e6;
    t.diagnostic(`debian:bookworm ${mb.toFixed(1)} MB compressed: blob download ${(mb / downloadS).toFixed(0)} MB/s (${downloadS.toFixed(2)} s); pull+verify+unpack ${(mb / pullS).toFixed(0)} MB/s (${pullS.toFixed(2)} s)`);
  });
});
