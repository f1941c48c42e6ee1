/**
 * Pulls from a real registry (Debian's docker-registry) through a counting
 * proxy: tags and digests, OCI and Docker schema2, zstd, index platform
 * selection, resume of an interrupted download, concurrent pulls, corrupt
 * blobs, missing images.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MEDIA_TYPES, type Digest } from '../../src/api/types/oci';
import type { PullProgress } from '../../src/api/types/images';
import { BerthError } from '../../src/common/errors';
import { runChecked } from '../../src/common/process/spawn';
import { hostPlatform } from '../../src/engine/images/platform';
import { startRegistry, type Registry } from '../support/registry';
import { ensureTestImages } from '../support/test-images';
import { imageStoreEnv, type ImageStoreEnv } from './env';
import { RegistryProxy } from './registry-proxy';

const other = hostPlatform().architecture === 'amd64' ? 'arm64' : 'amd64';

describe('image pull from a real registry', { timeout: 240_000 }, () => {
  let registry: Registry;
  let proxy: RegistryProxy;
  const envs: ImageStoreEnv[] = [];
  const env = async (): Promise<ImageStoreEnv> => {
    const e = await imageStoreEnv();
    envs.push(e);
    return e;
  };
  let host = '';
  let scratch = '';

  before(async () => {
    registry = await startRegistry();
    const images = await ensureTestImages(registry);
    // skopeo 1.9 pushing straight to the registry reuses the gzip blobs it already has: recompress into a local layout first.
    scratch = await mkdtemp(path.join(os.tmpdir(), 'berth-zstd-'));
    const skopeo = ['skopeo', '--insecure-policy', 'copy', '--quiet'];
    await runChecked([...skopeo, '--dest-compress', '--dest-compress-format', 'zstd', `oci:${images.layout}:latest`, `oci:${scratch}/oci:latest`]);
    await runChecked([...skopeo, '--dest-tls-verify=false', '--dest-compress-format', 'zstd', `oci:${scratch}/oci:latest`, `docker://${registry.host}/busybox-zstd:latest`]);
    proxy = await new RegistryProxy({ upstream: registry.url }).start();
    host = proxy.host;
  });
  after(async () => {
    await proxy?.stop();
    await registry?.stop();
    for (const e of envs) await e.dispose();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('pulls an OCI image by tag, unpacks it and records it', async () => {
    const e = await env();
    const events: PullProgress[] = [];
    const image = await e.images.pull(`${host}/busybox:latest`, { onProgress: (p) => events.push(p) });
    assert.equal(image.layers.length, 3);
    assert.deepEqual(image.repoTags, [`${host}/busybox:latest`]);
    assert.match(image.repoDigests[0] ?? '', new RegExp(`^${host}/busybox@sha256:`));
    assert.equal(image.platform.architecture, hostPlatform().architecture);
    assert.equal(image.layers[0]?.chainId, image.layers[0]?.diffId);
    assert.notEqual(image.layers[2]?.chainId, image.layers[2]?.diffId);
    for (const l of image.layers) assert.equal(l.mediaType, MEDIA_TYPES.ociLayerGzip);
    const statuses = new Set(events.map((p) => p.status));
    for (const s of ['Pulling fs layer', 'Download complete', 'Extracting', 'Pull complete']) assert.ok(statuses.has(s), `progress has "${s}"`);
    const top = image.layers[2]?.chainId ?? '';
    assert.equal((await e.snapshotter.stat(top)).kind, 'committed');
    assert.deepEqual((await e.images.get(`${host}/busybox`)).id, image.id);
    assert.deepEqual((await e.images.get(image.id.slice(7, 19))).id, image.id);
    // Pulling again downloads no layer.
    const before = proxy.requests.length;
    const again: PullProgress[] = [];
    await e.images.pull(`${host}/busybox:latest`, { onProgress: (p) => again.push(p) });
    assert.equal(again.filter((p) => p.status === 'Already exists').length, 3);
    assert.equal(proxy.requests.slice(before).filter((r) => r.url.includes('/blobs/')).length, 0);
  });

  it('pulls by digest, and a Docker schema2 image', async () => {
    const e = await env();
    const tagged = await e.images.pull(`${host}/busybox:docker`);
    for (const l of tagged.layers) assert.equal(l.mediaType, MEDIA_TYPES.dockerLayerGzip);
    const digest = (tagged.repoDigests[0] ?? '').split('@')[1] ?? '';
    const byDigest = await e.images.pull(`${host}/busybox@${digest}`);
    assert.equal(byDigest.id, tagged.id);
    assert.equal((await e.images.get(`${host}/busybox@${digest}`)).id, tagged.id);
  });

  it('fetches zstd layers intact (the unpacker checks every diff id)', async () => {
    const e = await env();
    const image = await e.images.pull(`${host}/busybox-zstd:latest`);
    for (const l of image.layers) assert.equal(l.mediaType, MEDIA_TYPES.ociLayerZstd);
    const first = image.layers[0];
    assert.ok(first);
    const blob = await readFile(e.content.blobPath(first.digest));
    assert.equal(blob.readUInt32LE(0), 0xfd2fb528, 'a zstd frame');
  });

  it('selects the platform from an index', async () => {
    const e = await env();
    const mine = await e.images.pull(`${host}/busybox:multi`);
    const latest = await e.images.pull(`${host}/busybox:latest`);
    assert.equal(mine.id, latest.id);
    const theirs = await e.images.pull(`${host}/busybox:multi`, { platform: { os: 'linux', architecture: other } });
    assert.notEqual(theirs.id, mine.id);
    assert.equal(theirs.platform.architecture, other);
    assert.equal(theirs.layers.length, 4);
    await assert.rejects(e.images.pull(`${host}/busybox:multi`, { platform: { os: 'linux', architecture: 's390x' } }), (err: unknown) => {
      assert.ok(BerthError.is(err, 'not_found'));
      assert.match(err.message, /busybox:multi has no image for linux\/s390x/);
      return true;
    });
  });

  it('says which image is missing', async () => {
    const e = await env();
    await assert.rejects(e.images.pull(`${host}/busybox:nope`), (err: unknown) => BerthError.is(err, 'not_found') && err.message === `manifest for ${host}/busybox:nope not found`);
    await assert.rejects(e.images.pull(`${host}/nothing/here`), (err: unknown) => BerthError.is(err, 'not_found') && err.message.includes(`${host}/nothing/here:latest`));
    await assert.rejects(e.images.pull('127.0.0.1:1/busybox'), (err: unknown) => BerthError.is(err, 'unavailable') && err.message.includes('127.0.0.1:1/busybox'));
  });

  it('resumes an interrupted layer download without fetching its bytes again', async () => {
    const e = await env();
    const manifest = await e.registry.getManifest({ domain: host, path: 'busybox' }, 'latest');
    const layers = (JSON.parse(manifest.body.toString('utf8')) as { layers: { digest: Digest; size: number }[] }).layers;
    const big = [...layers].sort((a, b) => b.size - a.size)[0];
    assert.ok(big && big.size > 200_000, `the largest layer is big enough (${big?.size ?? 0} bytes)`);
    const stallAt = 150_000;
    proxy.stallAfter = stallAt;
    const ac = new AbortController();
    const outcome = e.images.pull(`${host}/busybox:latest`, { signal: ac.signal }).then(
      () => new Error('the pull finished'),
      (err: unknown) => err,
    );
    try {
      for (let i = 0; ; i++) {
        const partial = (await e.content.ingests()).find((g) => g.key === big.digest.slice(7));
        if (partial?.offset === stallAt) break;
        assert.ok(i < 800, `the download reached the stall point (at ${partial?.offset ?? 0} bytes)`);
        await new Promise((r) => setTimeout(r, 25));
      }
    } finally {
      ac.abort();
      proxy.stallAfter = undefined;
    }
    const err = await outcome;
    assert.ok(BerthError.is(err, 'cancelled'), String(err));
    const firstAttempt = proxy.requests.filter((r) => r.url.endsWith(`/blobs/${big.digest}`));
    const start = proxy.requests.length;
    const image = await e.images.pull(`${host}/busybox:latest`);
    assert.equal(image.layers.length, 3);
    const resumed = proxy.requests.slice(start).filter((r) => r.url.endsWith(`/blobs/${big.digest}`));
    assert.equal(resumed.length, 1);
    assert.equal(resumed[0]?.range, `bytes=${stallAt}-`);
    assert.equal(resumed[0]?.status, 206);
    assert.equal(resumed[0]?.bytes, big.size - stallAt, 'only the missing bytes came again');
    assert.equal(firstAttempt.at(-1)?.bytes, stallAt);
  });

  it('runs concurrent pulls of one image once per blob', async () => {
    const e = await env();
    const start = proxy.requests.length;
    const results = await Promise.all([1, 2, 3].map(() => e.images.pull(`${host}/busybox:latest`)));
    assert.equal(new Set(results.map((r) => r.id)).size, 1);
    const gets = proxy.requests.slice(start).filter((r) => r.method === 'GET' && r.url.includes('/blobs/'));
    const perBlob = new Map<string, number>();
    for (const g of gets) perBlob.set(g.url, (perBlob.get(g.url) ?? 0) + 1);
    assert.equal(perBlob.size, 4, 'config and three layers');
    for (const [url, n] of perBlob) assert.equal(n, 1, `${url} fetched once`);
  });

  it('refuses a blob the registry serves corrupted, and keeps nothing of it', async () => {
    const e = await env();
    const manifest = await e.registry.getManifest({ domain: host, path: 'busybox' }, 'docker');
    const layer = (JSON.parse(manifest.body.toString('utf8')) as { layers: { digest: Digest }[] }).layers[2];
    assert.ok(layer);
    const hex = layer.digest.slice(7);
    const file = path.join(registry.storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    const original = await readFile(file);
    const corrupt = Buffer.from(original);
    corrupt[corrupt.length >> 1] = (corrupt[corrupt.length >> 1] ?? 0) ^ 0xff;
    await writeFile(file, corrupt);
    try {
      await assert.rejects(e.images.pull(`${host}/busybox:docker`), (err: unknown) => {
        assert.ok(BerthError.is(err, 'invalid_argument'));
        assert.match(err.message, new RegExp(`blob ${layer.digest} of ${host}/busybox:docker failed verification: digest mismatch`));
        return true;
      });
      assert.equal(await e.content.has(layer.digest), false);
      assert.deepEqual(await readdir(path.join(e.content.root, 'ingest')).then((n) => n.filter((x) => x === hex)), []);
      await assert.rejects(e.images.get(`${host}/busybox:docker`), (err: unknown) => BerthError.is(err, 'not_found'));
    } finally {
      await writeFile(file, original);
    }
  });
});
