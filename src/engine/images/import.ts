/**
 * `docker import`: a root filesystem tarball (plain or gzip) becomes a
 * one-layer image. The layer is stored gzip-compressed; its diff id is the
 * digest of the uncompressed tar; config and OCI manifest are synthesized.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import type { Digest, ImageConfig, ImageManifest, ImageRuntimeConfig, Platform } from '../../api/types/oci';
import { MEDIA_TYPES } from '../../api/types/oci';
import type { ImageRecord } from '../../api/types/images';
import { BerthError } from '../../common/errors';
import type { ImageStoreDeps } from './deps';
import { hostPlatform } from './platform';
import { layerRecords, platformOf } from './pull';

export interface ImportOptions {
  readonly platform?: Platform;
  /** Runtime config of the new image (Cmd, Env, WorkingDir, ...). */
  readonly config?: ImageRuntimeConfig;
  /** History comment, like `docker import --message`. */
  readonly message?: string;
  readonly signal?: AbortSignal;
}

/** Reads the first bytes of a stream and gives back a stream with all of it. */
export async function peek(input: Readable, bytes: number): Promise<{ head: Buffer; stream: Readable }> {
  let head = Buffer.alloc(0);
  const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  while (head.length < bytes) {
    const next = await it.next();
    if (next.done) break;
    head = Buffer.concat([head, Buffer.from(next.value)]);
  }
  const stream = Readable.from(
    (async function* () {
      if (head.length > 0) yield head;
      for (let next = await it.next(); !next.done; next = await it.next()) yield next.value;
    })(),
    { objectMode: false },
  );
  return { head, stream };
}

export function isGzip(head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

export function isZstd(head: Buffer): boolean {
  return head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528;
}

/** Stores the tarball as a gzip layer and returns the (untagged) image record. */
export async function importRootfs(deps: ImageStoreDeps, source: string | Readable, options: ImportOptions = {}): Promise<ImageRecord> {
  const { content } = deps;
  const input = typeof source === 'string' ? createReadStream(source) : source;
  const { head, stream } = await peek(input, 4);
  if (isZstd(head)) throw new BerthError('invalid_argument', 'importing a zstd-compressed tarball is not supported; decompress it first');
  const diffHash = createHash('sha256');
  const hasher = new Transform({
    transform(chunk: Buffer, _enc, done) {
      diffHash.update(chunk);
      done(null, chunk);
    },
  });
  const gzip = createGzip();
  const signal = options.signal ? { signal: options.signal } : {};
  const [, stored] = await Promise.all([pipeline([stream, ...(isGzip(head) ? [createGunzip()] : []), hasher, gzip], signal), content.putStream(gzip, signal)]).catch((err: unknown) => {
    throw new BerthError('invalid_argument', `cannot import the tarball: ${(err as Error).message}`, { cause: err });
  });
  const diffId: Digest = `sha256:${diffHash.digest('hex')}`;
  const platform = options.platform ?? hostPlatform();
  const created = new Date().toISOString();
  const config: ImageConfig = {
    created,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: options.config ?? {},
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created, created_by: 'berth import', ...(options.message ? { comment: options.message } : {}) }],
  };
  const configBody = Buffer.from(JSON.stringify(config));
  const configDigest = await content.put(configBody);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: MEDIA_TYPES.ociConfig, digest: configDigest, size: configBody.length },
    layers: [{ mediaType: MEDIA_TYPES.ociLayerGzip, digest: stored.digest, size: stored.size }],
  };
  const manifestDigest = await content.put(Buffer.from(JSON.stringify(manifest)));
  const layers = layerRecords(manifest, config);
  await deps.unpacker.ensureChain(layers, (d) => content.openRead(d), signal);
  return {
    id: configDigest,
    repoTags: [],
    repoDigests: [],
    manifestDigest,
    config,
    layers,
    platform: platformOf(config),
    size: stored.size,
    storedAt: created,
  };
}
