/** The last state of a build as a stored image: config blob, OCI manifest, record, tags. */
import type { ImageRecord } from '../../api/types/images';
import { MEDIA_TYPES, type ImageConfig, type ImageManifest } from '../../api/types/oci';
import { sha256, type ContentStore } from '../content/store';
import { platformOf } from '../images/pull';
import type { BuildState } from './build-state';

export interface ImageSink {
  /** Stores the record and points `tags` at it. */
  addImage(record: ImageRecord, tags: readonly string[]): Promise<ImageRecord>;
}

export async function writeImage(content: ContentStore, images: ImageSink, state: BuildState, tags: readonly string[]): Promise<ImageRecord> {
  const config: ImageConfig = state.config;
  const body = Buffer.from(JSON.stringify(config));
  const configDigest = sha256(body);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: MEDIA_TYPES.ociConfig, digest: configDigest, size: body.length },
    layers: state.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  // Both blobs at once (each is stored unless it is there already: a cached rebuild writes neither).
  const [, manifestDigest] = await Promise.all([content.put(body, configDigest), content.put(Buffer.from(JSON.stringify(manifest)))]);
  const record: ImageRecord = {
    id: configDigest,
    repoTags: [],
    repoDigests: [],
    manifestDigest,
    config,
    layers: state.layers,
    platform: platformOf(config),
    size: state.layers.reduce((n, l) => n + l.size, 0),
    storedAt: new Date().toISOString(),
  };
  return images.addImage(record, tags);
}
