/**
 * `docker load`: reads a `docker save` tar (legacy manifest.json layout) or an
 * OCI layout tar (index.json + blobs), verifies every blob against its digest
 * and every layer against the config's diff ids, stores the blobs, and
 * returns the images with the names the archive gives them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Descriptor, Digest, ImageConfig, ImageIndex, ImageManifest } from '../../api/types/oci';
import { MEDIA_TYPES } from '../../api/types/oci';
import { BerthError } from '../../common/errors';
import type { ContentStore } from '../content/store';
import { extractArchive, type ExtractedArchive } from './archive-extract';
import { isGzip, isZstd } from './import';
import { hostPlatform, selectManifest } from './platform';
import { checkConfig } from './pull';

export interface LoadedImage {
  readonly manifestDigest: Digest;
  readonly manifest: ImageManifest;
  readonly config: ImageConfig;
  /** References to tag it with (canonical or familiar form). */
  readonly names: readonly string[];
}

async function readJson<T>(archive: ExtractedArchive, name: string): Promise<{ body: Buffer; value: T }> {
  const file = archive.resolve(name);
  if (!file) throw new BerthError('invalid_argument', `image archive: ${name} is missing`);
  const body = await readFile(file);
  try {
    return { body, value: JSON.parse(body.toString('utf8')) as T };
  } catch (err) {
    throw new BerthError('invalid_argument', `image archive: ${name} is not valid JSON`, { cause: err });
  }
}

/** Moves a blob of the archive into the content store, verifying its digest. */
async function storeBlob(content: ContentStore, archive: ExtractedArchive, digest: Digest, signal?: AbortSignal): Promise<void> {
  if (await content.has(digest)) return;
  const file = archive.resolve(`blobs/sha256/${digest.slice(7)}`);
  if (!file) throw new BerthError('invalid_argument', `image archive: blob ${digest} is missing`);
  await content.putFile(file, digest, signal ? { signal } : {}).catch((err: unknown) => {
    throw new BerthError('invalid_argument', `image archive: blob ${digest} failed verification: ${(err as Error).message}`, { cause: err });
  });
}

async function loadOci(content: ContentStore, archive: ExtractedArchive, signal?: AbortSignal): Promise<LoadedImage[]> {
  const { value: index } = await readJson<ImageIndex>(archive, 'index.json');
  const out: LoadedImage[] = [];
  for (const entry of index.manifests ?? []) {
    let descriptor: Descriptor = entry;
    if (descriptor.mediaType === MEDIA_TYPES.ociIndex || descriptor.mediaType === MEDIA_TYPES.dockerManifestList) {
      await storeBlob(content, archive, descriptor.digest, signal);
      const nested = await content.readJson<ImageIndex>(descriptor.digest);
      descriptor = selectManifest(nested.manifests ?? [], hostPlatform(), `image archive entry ${entry.digest}`);
    }
    await storeBlob(content, archive, descriptor.digest, signal);
    const manifest = await content.readJson<ImageManifest>(descriptor.digest);
    await storeBlob(content, archive, manifest.config.digest, signal);
    const config = await content.readJson<ImageConfig>(manifest.config.digest);
    checkConfig(config, manifest.layers.length, `image archive entry ${descriptor.digest}`);
    for (const l of manifest.layers) await storeBlob(content, archive, l.digest, signal);
    const annotations = entry.annotations ?? {};
    const name = annotations['io.containerd.image.name'] ?? annotations['org.opencontainers.image.ref.name'];
    // A bare ref.name is only a tag ("latest"), which names no repository.
    const names = name && /[/:]/.test(name) ? [name] : [];
    out.push({ manifestDigest: descriptor.digest, manifest, config, names });
  }
  return out;
}

/** sha256 of the file, and of its uncompressed content (the diff id). */
async function layerDigests(file: string, signal?: AbortSignal): Promise<{ digest: Digest; diffId: Digest; mediaType: string; size: number }> {
  const fh = await open(file, 'r');
  const head = Buffer.alloc(4);
  await fh.read(head, 0, 4, 0);
  await fh.close();
  if (isZstd(head)) throw new BerthError('invalid_argument', 'image archive: zstd layers in a docker save archive are not supported');
  const gz = isGzip(head);
  const raw = createHash('sha256');
  const diff = createHash('sha256');
  let size = 0;
  const source = createReadStream(file, signal ? { signal } : {});
  const gunzip = gz ? createGunzip() : undefined;
  source.on('data', (chunk) => {
    raw.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  });
  const uncompressed: Readable = gunzip ? source.pipe(gunzip) : source;
  source.on('error', (err) => gunzip?.destroy(err));
  for await (const chunk of uncompressed) diff.update(chunk as Buffer);
  return { digest: `sha256:${raw.digest('hex')}`, diffId: `sha256:${diff.digest('hex')}`, mediaType: gz ? MEDIA_TYPES.ociLayerGzip : MEDIA_TYPES.ociLayer, size };
}

async function loadLegacy(content: ContentStore, archive: ExtractedArchive, signal?: AbortSignal): Promise<LoadedImage[]> {
  const { value: entries } = await readJson<{ Config?: unknown; RepoTags?: unknown; Layers?: unknown }[]>(archive, 'manifest.json');
  if (!Array.isArray(entries)) throw new BerthError('invalid_argument', 'image archive: manifest.json is not a list');
  const known = new Map<string, Awaited<ReturnType<typeof layerDigests>>>();
  const out: LoadedImage[] = [];
  for (const entry of entries) {
    if (typeof entry.Config !== 'string' || !Array.isArray(entry.Layers) || !entry.Layers.every((l): l is string => typeof l === 'string')) {
      throw new BerthError('invalid_argument', 'image archive: malformed manifest.json entry');
    }
    const { body: configBody, value: config } = await readJson<ImageConfig>(archive, entry.Config);
    const configDigest = await content.put(configBody);
    const named = /([a-f0-9]{64})(\.json)?$/.exec(entry.Config)?.[1];
    if (named && named !== configDigest.slice(7)) throw new BerthError('invalid_argument', `image archive: config ${entry.Config} does not match its name (digest ${configDigest})`);
    checkConfig(config, entry.Layers.length, `image archive entry ${entry.Config}`);
    const layers: Descriptor[] = [];
    for (const [i, name] of entry.Layers.entries()) {
      const file = archive.resolve(name);
      if (!file) throw new BerthError('invalid_argument', `image archive: layer ${name} is missing`);
      let info = known.get(file);
      if (!info) {
        info = await layerDigests(file, signal);
        known.set(file, info);
        const namedBlob = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name)?.[1];
        if (namedBlob && namedBlob !== info.digest.slice(7)) throw new BerthError('invalid_argument', `image archive: layer ${name} does not match its name (digest ${info.digest})`);
        if (!(await content.has(info.digest))) await content.putFile(file, info.digest);
      }
      if (info.diffId !== config.rootfs.diff_ids[i]) {
        throw new BerthError('invalid_argument', `image archive: layer ${name} has diff id ${info.diffId}, the config expects ${config.rootfs.diff_ids[i] ?? 'none'}`);
      }
      layers.push({ mediaType: info.mediaType, digest: info.digest, size: info.size });
    }
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, digest: configDigest, size: configBody.length },
      layers,
    };
    const manifestDigest = await content.put(Buffer.from(JSON.stringify(manifest)));
    const names = Array.isArray(entry.RepoTags) ? entry.RepoTags.filter((t): t is string => typeof t === 'string') : [];
    out.push({ manifestDigest, manifest, config, names });
  }
  return out;
}

/** Reads the archive into the content store; the caller unpacks and records the images. */
export async function loadArchive(content: ContentStore, input: Readable, options: { signal?: AbortSignal } = {}): Promise<LoadedImage[]> {
  // Scratch space next to the blobs, so that verified files are renamed, not copied.
  const dir = path.join(content.root, 'ingest', `load-${randomBytes(8).toString('hex')}`);
  try {
    const archive = await extractArchive(input, dir, options);
    const index = archive.resolve('index.json') ? (await readJson<ImageIndex>(archive, 'index.json')).value : undefined;
    if (index && (index.manifests ?? []).length > 0) {
      // The OCI layout keeps the original manifests (and so their digests); Docker's manifest.json may add names.
      const images = await loadOci(content, archive, options.signal);
      if (!archive.resolve('manifest.json')) return images;
      const { value: legacy } = await readJson<{ Config?: unknown; RepoTags?: unknown }[]>(archive, 'manifest.json');
      return images.map((image) => {
        if (image.names.length > 0 || !Array.isArray(legacy)) return image;
        const hex = image.manifest.config.digest.slice(7);
        const match = legacy.find((e) => typeof e.Config === 'string' && e.Config.includes(hex));
        const names = Array.isArray(match?.RepoTags) ? match.RepoTags.filter((t): t is string => typeof t === 'string') : [];
        return { ...image, names };
      });
    }
    if (archive.resolve('manifest.json')) return await loadLegacy(content, archive, options.signal);
    throw new BerthError('invalid_argument', 'not an image archive: it has neither manifest.json nor index.json');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
