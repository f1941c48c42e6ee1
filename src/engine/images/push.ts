/**
 * Pushing one image: its layers and config (skipping blobs the registry has,
 * mounting those another repository of the same registry has), then the
 * manifest under the reference's tag.
 */
import { BerthError } from '../../common/errors';
import type { Digest, ImageManifest } from '../../api/types/oci';
import type { ImageRecord, PullProgress } from '../../api/types/images';
import type { ImageStoreDeps } from './deps';
import { parseReference, type ImageReference } from './reference';
import { eachLimited } from '../../common/each-limited';

export async function pushImage(
  deps: ImageStoreDeps,
  image: ImageRecord,
  ref: ImageReference,
  options: { signal?: AbortSignal; onProgress?: (p: PullProgress) => void; chunkSize?: number } = {},
): Promise<Digest> {
  const { registry, content } = deps;
  const progress = (p: PullProgress): void => options.onProgress?.(p);
  const body = await content.read(image.manifestDigest).catch((err: unknown) => {
    throw new BerthError('failed_precondition', `cannot push ${image.id}: its manifest is not in the content store`, { cause: err });
  });
  const manifest = JSON.parse(body.toString('utf8')) as ImageManifest;
  // A repository of the same registry that already has the blobs, for cross-repository mounts.
  const mountFrom = image.repoDigests
    .map((d) => parseReference(d))
    .find((r) => r.domain === ref.domain && r.path !== ref.path)?.path;
  progress({ status: `The push refers to repository [${ref.domain}/${ref.path}]` });
  const blobs = [...manifest.layers, manifest.config];
  for (const b of manifest.layers) progress({ id: b.digest.slice(7, 19), status: 'Preparing' });
  await eachLimited(blobs, deps.concurrency ?? 3, async (blob) => {
    const id = blob.digest.slice(7, 19);
    const sent = await registry.pushBlob(ref, blob.digest, blob.size, content, {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(mountFrom ? { mountFrom } : {}),
      ...(options.chunkSize ? { chunkSize: options.chunkSize } : {}),
      onBytes: (current, total) => progress({ id, status: 'Pushing', current, total }),
    });
    progress({ id, status: sent ? 'Pushed' : 'Layer already exists' });
  });
  const mediaType = manifest.mediaType ?? 'application/vnd.oci.image.manifest.v1+json';
  const digest = await registry.putManifest(ref, ref.tag ?? ref.digest ?? 'latest', mediaType, body, options.signal ? { signal: options.signal } : {});
  progress({ status: `${ref.tag ?? 'latest'}: digest: ${digest} size: ${body.length}` });
  return digest;
}
