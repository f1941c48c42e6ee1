/**
 * The image store against a real registry: push (mount and chunked upload)
 * and pull back, tag/get/list/remove, import of a rootfs tarball, save/load
 * round trips (ours, skopeo's docker-archive and oci-archive), and load's
 * refusals (tampered blobs, path traversal).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import tar from 'tar-stream';
import { BerthError } from '../../src/common/errors';
import { runChecked } from '../../src/common/process/spawn';
import { makeBusyboxRootfs } from '../support/busybox-rootfs';
import { startRegistry, type Registry } from '../support/registry';
import { ensureTestImages } from '../support/test-images';
import { imageStoreEnv, type ImageStoreEnv } from './env';
import { RegistryProxy } from './registry-proxy';

async function tarFile(file: string, entries: { name: string; data: Buffer; type?: 'file' | 'symlink'; linkname?: string }[]): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, createWriteStream(file));
  for (const e of entries) {
    await new Promise<void>((resolve, reject) =>
      pack.entry(e.type === 'symlink' ? { name: e.name, type: 'symlink', linkname: e.linkname ?? '' } : { name: e.name, size: e.data.length }, e.type === 'symlink' ? Buffer.alloc(0) : e.data, (err) => (err ? reject(err) : resolve())),
    );
  }
  pack.finalize();
  await done;
}

/** Every entry of a tar file, in memory (small archives only). */
async function readTar(file: string): Promise<{ name: string; data: Buffer }[]> {
  const out: { name: string; data: Buffer }[] = [];
  const extract = tar.extract();
  extract.on('entry', (header, body, next) => {
    const chunks: Buffer[] = [];
    body.on('data', (c: unknown) => void chunks.push(c as Buffer));
    body.on('end', () => {
      out.push({ name: header.name, data: Buffer.concat(chunks) });
      next();
    });
  });
  await pipeline(createReadStream(file), extract);
  return out;
}

describe('image store: push, tags, import, save and load', { timeout: 240_000 }, () => {
  let registry: Registry;
  let proxy: RegistryProxy;
  let scratch = '';
  let host = '';
  let layout = '';
  const envs: ImageStoreEnv[] = [];
  const env = async (): Promise<ImageStoreEnv> => {
    const e = await imageStoreEnv();
    envs.push(e);
    return e;
  };

  before(async () => {
    registry = await startRegistry();
    layout = (await ensureTestImages(registry)).layout;
    proxy = await new RegistryProxy({ upstream: registry.url }).start();
    host = proxy.host;
    scratch = await mkdtemp(path.join(os.tmpdir(), 'berth-store-test-'));
  });
  after(async () => {
    await proxy?.stop();
    await registry?.stop();
    for (const e of envs) await e.dispose();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('pushes a pulled image to a new repository (mounting its blobs) and pulls it back', async () => {
    const e = await env();
    const image = await e.images.pull(`${host}/busybox:latest`);
    await e.images.tag(`${host}/busybox:latest`, `${host}/copies/busybox:v1`);
    const start = proxy.requests.length;
    const digest = await e.images.push(`${host}/copies/busybox:v1`);
    const sent = proxy.requests.slice(start);
    assert.ok(sent.some((r) => r.method === 'POST' && r.url.includes('mount=') && r.status === 201), 'a cross-repository mount');
    assert.equal(sent.filter((r) => r.method === 'PUT' && r.url.includes('/blobs/uploads/')).length, 0, 'no blob uploaded');
    assert.equal(digest, image.manifestDigest);
    const fresh = await env();
    const back = await fresh.images.pull(`${host}/copies/busybox:v1`);
    assert.equal(back.id, image.id);
    assert.ok((await e.images.get(`${host}/copies/busybox@${digest}`)).repoDigests.includes(`${host}/copies/busybox@${digest}`));
  });

  it('tags, gets, lists and removes images', async () => {
    const e = await env();
    const image = await e.images.pull(`${host}/busybox:latest`);
    await e.images.tag(image.id, 'example.com/team/app:1');
    await e.images.tag('example.com/team/app:1', 'busybox');
    assert.deepEqual((await e.images.get('docker.io/library/busybox:latest')).repoTags, ['busybox:latest', `${host}/busybox:latest`, 'example.com/team/app:1'].sort());
    assert.equal((await e.images.list()).length, 1);
    await assert.rejects(e.images.get('nothing:here'), (err: unknown) => BerthError.is(err, 'not_found') && err.message.includes('nothing:here'));
    await assert.rejects(e.images.remove(image.id.slice(7, 19)), (err: unknown) => BerthError.is(err, 'conflict'));
    assert.deepEqual(await e.images.remove('busybox'), { untagged: ['busybox:latest'], deleted: [] });
    assert.deepEqual(await e.images.remove('example.com/team/app:1'), { untagged: ['example.com/team/app:1'], deleted: [] });
    e.inUse.add(image.id);
    await assert.rejects(e.images.remove(`${host}/busybox:latest`), (err: unknown) => BerthError.is(err, 'conflict') && /used by a container/.test(err.message));
    e.inUse.clear();
    assert.deepEqual(await e.images.remove(`${host}/busybox:latest`), { untagged: [`${host}/busybox:latest`], deleted: [image.id] });
    assert.deepEqual(await e.images.list(), []);
    await assert.rejects(e.images.get(image.id), (err: unknown) => BerthError.is(err, 'not_found'));
  });

  it('imports a rootfs tarball as a one-layer image, and pushes it in chunks', async () => {
    const e = await env();
    const rootfs = path.join(scratch, 'rootfs');
    await makeBusyboxRootfs(rootfs);
    const tarball = path.join(scratch, 'rootfs.tar');
    await runChecked(['tar', '-C', rootfs, '-cf', tarball, '.']);
    const diffId = `sha256:${createHash('sha256').update(await readFile(tarball)).digest('hex')}`;
    const image = await e.images.importImage(tarball, { reference: `${host}/imported:1`, config: { Cmd: ['sh'] }, message: 'from a test' });
    assert.equal(image.layers.length, 1);
    assert.equal(image.layers[0]?.diffId, diffId);
    assert.deepEqual(image.config.config?.Cmd, ['sh']);
    assert.deepEqual(image.repoTags, [`${host}/imported:1`]);
    assert.equal((await e.snapshotter.stat(diffId)).kind, 'committed');
    // Gzipped input gives the same diff id.
    await runChecked(['gzip', '-k', tarball]);
    assert.equal((await e.images.importImage(`${tarball}.gz`)).layers[0]?.diffId, diffId);

    const start = proxy.requests.length;
    const digest = await e.images.push(`${host}/imported:1`, { chunkSize: 256 * 1024 });
    const patches = proxy.requests.slice(start).filter((r) => r.method === 'PATCH');
    assert.ok(patches.length >= 2, `uploaded in chunks (${patches.length} PATCH requests)`);
    const fresh = await env();
    const back = await fresh.images.pull(`${host}/imported@${digest}`);
    assert.equal(back.id, image.id);
  });

  it('saves and loads images (both layouts), keeping ids and names', async () => {
    const e = await env();
    const pulled = await e.images.pull(`${host}/busybox:latest`);
    const archive = path.join(scratch, 'saved.tar');
    await e.images.save([`${host}/busybox:latest`], createWriteStream(archive));
    const names = (await readTar(archive)).map((x) => x.name);
    for (const n of ['oci-layout', 'index.json', 'manifest.json', 'repositories', `blobs/sha256/${pulled.id.slice(7)}`]) assert.ok(names.includes(n), `archive has ${n}`);
    const fresh = await env();
    const loaded = await fresh.images.load(createReadStream(archive));
    assert.equal(loaded.length, 1);
    assert.equal(loaded[0]?.id, pulled.id);
    assert.equal(loaded[0]?.manifestDigest, pulled.manifestDigest);
    assert.deepEqual(loaded[0]?.repoTags, [`${host}/busybox:latest`]);
    assert.equal((await fresh.snapshotter.stat(pulled.layers[2]?.chainId ?? '')).kind, 'committed');
    // `docker save | gzip` loads too.
    await runChecked(['gzip', '-k', archive]);
    const third = await env();
    assert.equal((await third.images.load(createReadStream(`${archive}.gz`)))[0]?.id, pulled.id);
  });

  it("loads skopeo's docker-archive (legacy layout) and oci-archive tarballs", async () => {
    const dockerArchive = path.join(scratch, 'docker.tar');
    const ociArchive = path.join(scratch, 'oci.tar');
    await runChecked(['skopeo', '--insecure-policy', 'copy', '--quiet', `oci:${layout}:latest`, `docker-archive:${dockerArchive}:example.com/legacy:v1`]);
    await runChecked(['skopeo', '--insecure-policy', 'copy', '--quiet', `oci:${layout}:latest`, `oci-archive:${ociArchive}:example.com/oci:v2`]);
    const e = await env();
    const legacy = await e.images.load(createReadStream(dockerArchive));
    assert.deepEqual(legacy[0]?.repoTags, ['example.com/legacy:v1']);
    assert.equal(legacy[0]?.layers.length, 3);
    const oci = await e.images.load(createReadStream(ociArchive));
    assert.equal(oci[0]?.id, legacy[0]?.id, 'same config, same image id');
    assert.deepEqual(oci[0]?.repoTags, ['example.com/legacy:v1', 'example.com/oci:v2']);
  });

  it('refuses tampered archives and path traversal, writing nothing outside', async () => {
    const e = await env();
    const pulled = await e.images.pull(`${host}/busybox:latest`);
    const archive = path.join(scratch, 'good.tar');
    await e.images.save([`${host}/busybox:latest`], createWriteStream(archive));
    const entries = await readTar(archive);
    const layerName = `blobs/sha256/${pulled.layers[0]?.digest.slice(7) ?? ''}`;
    const flip = (data: Buffer): Buffer => {
      const copy = Buffer.from(data);
      copy[100] = (copy[100] ?? 0) ^ 0xff;
      return copy;
    };
    const tampered = entries.map((x) => (x.name === layerName ? { ...x, data: flip(x.data) } : x));
    const bad = path.join(scratch, 'tampered.tar');
    await tarFile(bad, tampered);
    const fresh = await env();
    await assert.rejects(fresh.images.load(createReadStream(bad)), (err: unknown) => BerthError.is(err, 'invalid_argument') && /failed verification|diff id/.test(err.message));
    assert.deepEqual(await fresh.images.list(), []);

    const escape = path.join(scratch, 'escape.tar');
    const victim = path.join(fresh.content.root, 'pwned');
    await tarFile(escape, [
      { name: 'manifest.json', data: Buffer.from('[]') },
      { name: '../../pwned', data: Buffer.from('x') },
    ]);
    await assert.rejects(fresh.images.load(createReadStream(escape)), (err: unknown) => BerthError.is(err, 'invalid_argument') && /path traversal/.test(err.message));
    await assert.rejects(access(victim));
    const link = path.join(scratch, 'link.tar');
    await tarFile(link, [{ name: 'manifest.json', data: Buffer.alloc(0), type: 'symlink', linkname: '../../../etc/passwd' }]);
    await assert.rejects(fresh.images.load(createReadStream(link)), (err: unknown) => BerthError.is(err, 'invalid_argument') && /leaves the archive/.test(err.message));
    assert.equal((await stat(path.join(fresh.content.root, 'ingest'))).isDirectory(), true);
  });
});
