/**
 * `docker save`: images into one tar that both layouts can read, like Docker
 * 25+: the OCI image layout (oci-layout, index.json, blobs/sha256/...) and the
 * legacy Docker files (manifest.json, repositories) pointing at the same blobs.
 */
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { Descriptor, Digest, ImageManifest } from '../../api/types/oci';
import { MEDIA_TYPES } from '../../api/types/oci';
import type { ImageRecord } from '../../api/types/images';
import type { ContentStore } from '../content/store';
import { canonicalReference, formatReference, parseReference } from './reference';

export interface SavedImage {
  readonly record: ImageRecord;
  /** Tags to record for it (familiar or canonical form); may be empty. */
  readonly tags: readonly string[];
}

function blobName(d: Digest): string {
  return `blobs/sha256/${d.slice(7)}`;
}

export async function saveImages(content: ContentStore, images: readonly SavedImage[], out: Writable, options: { signal?: AbortSignal } = {}): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, out, options.signal ? { signal: options.signal } : {});
  const written = new Set<Digest>();
  const addJson = (name: string, value: unknown): Promise<void> =>
    new Promise((resolve, reject) => pack.entry({ name, mode: 0o644, mtime: new Date(0) }, Buffer.from(JSON.stringify(value)), (err) => (err ? reject(err) : resolve())));
  const addBlob = async (digest: Digest): Promise<void> => {
    if (written.has(digest)) return;
    written.add(digest);
    const { size } = await content.info(digest);
    await new Promise<void>((resolve, reject) => {
      const entry = pack.entry({ name: blobName(digest), size, mode: 0o644, mtime: new Date(0) }, (err) => (err ? reject(err) : resolve()));
      content.openRead(digest).on('error', reject).pipe(entry);
    });
  };
  try {
    const index: Descriptor[] = [];
    const legacy: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
    const repositories: Record<string, Record<string, string>> = {};
    for (const { record, tags } of images) {
      options.signal?.throwIfAborted();
      const manifestBody = await content.read(record.manifestDigest);
      const manifest = JSON.parse(manifestBody.toString('utf8')) as ImageManifest;
      for (const l of manifest.layers) await addBlob(l.digest);
      await addBlob(manifest.config.digest);
      await addBlob(record.manifestDigest);
      const refs = tags.map((t) => parseReference(t));
      const descriptor = { mediaType: manifest.mediaType ?? MEDIA_TYPES.ociManifest, digest: record.manifestDigest, size: manifestBody.length };
      if (refs.length === 0) index.push(descriptor);
      for (const ref of refs) {
        index.push({ ...descriptor, annotations: { 'io.containerd.image.name': canonicalReference(ref), 'org.opencontainers.image.ref.name': ref.tag ?? 'latest' } });
        const repo = formatReference({ domain: ref.domain, path: ref.path });
        const last = manifest.layers[manifest.layers.length - 1];
        if (last) (repositories[repo] ??= {})[ref.tag ?? 'latest'] = last.digest.slice(7);
      }
      legacy.push({ Config: blobName(manifest.config.digest), RepoTags: refs.map((r) => formatReference(r)), Layers: manifest.layers.map((l) => blobName(l.digest)) });
    }
    await addJson('oci-layout', { imageLayoutVersion: '1.0.0' });
    await addJson('index.json', { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: index });
    await addJson('manifest.json', legacy);
    await addJson('repositories', repositories);
    pack.finalize();
  } catch (err) {
    pack.destroy(err as Error);
    await done.catch(() => undefined);
    throw err;
  }
  await done;
}
