/**
 * Unpacks an image's layers into committed snapshots named by ChainID,
 * skipping those already there. Each layer is decompressed (gzip, zstd or
 * none), applied, checked against its diff id, then committed; a failure
 * removes the half-applied snapshot.
 */
import { createHash, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { BerthError } from '../../common/errors';
import type { Logger } from '../../common/log';
import type { Digest } from '../../api/types/oci';
import { applyLayer } from './apply-layer';
import type { OverlaySnapshotter } from './overlay';

export interface LayerToUnpack {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly diffId: Digest;
  readonly chainId: Digest;
}

/** ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)). */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const diffId of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev ? `sha256:${createHash('sha256').update(`${prev} ${diffId}`).digest('hex')}` : diffId);
  }
  return out;
}

function decompress(mediaType: string, input: Readable): Readable {
  if (mediaType.endsWith('+zstd') || mediaType.endsWith('.zstd')) {
    const child = spawn('zstd', ['-dc', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
    input.pipe(child.stdin);
    child.stdin.on('error', () => undefined);
    const out = new PassThrough();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.pipe(out, { end: false });
    child.on('close', (code) => {
      if (code === 0) out.end();
      else out.destroy(new BerthError('invalid_argument', `zstd layer is corrupt: ${stderr.trim()}`));
    });
    return out;
  }
  if (mediaType.endsWith('gzip') || mediaType.endsWith('.gzip')) return input.pipe(createGunzip());
  return input;
}

export class LayerUnpacker {
  constructor(
    private readonly snapshotter: OverlaySnapshotter,
    private readonly logger: Logger,
  ) {}

  private async exists(key: string): Promise<boolean> {
    return this.snapshotter.stat(key).then(
      () => true,
      () => false,
    );
  }

  async ensureChain(
    layers: readonly LayerToUnpack[],
    openBlob: (digest: Digest) => Readable,
    options: { signal?: AbortSignal; onProgress?: (p: { id: string; status: string; current?: number; total?: number }) => void } = {},
  ): Promise<void> {
    let parent: Digest | undefined;
    for (const layer of layers) {
      const id = layer.digest.slice(7, 19);
      if (await this.exists(layer.chainId)) {
        parent = layer.chainId;
        continue;
      }
      options.signal?.throwIfAborted();
      options.onProgress?.({ id, status: 'Extracting' });
      const key = `extract-${randomBytes(6).toString('hex')}-${layer.chainId}`;
      await this.snapshotter.prepare(key, parent);
      try {
        const upper = await this.snapshotter.upperDir(key);
        const result = await applyLayer(decompress(layer.mediaType, openBlob(layer.digest)), upper, options.signal ? { signal: options.signal } : {});
        if (result.diffId !== layer.diffId) {
          throw new BerthError('invalid_argument', `layer ${layer.digest} does not match the image: diff id ${result.diffId}, expected ${layer.diffId}`);
        }
        await this.snapshotter.commit(layer.chainId, key).catch(async (err: unknown) => {
          // Someone else committed the same chain meanwhile: theirs is as good as ours.
          if (await this.exists(layer.chainId)) return;
          throw err;
        });
        if (await this.exists(key)) await this.snapshotter.remove(key);
      } catch (err) {
        await this.snapshotter.remove(key).catch(() => undefined);
        throw err;
      }
      options.onProgress?.({ id, status: 'Pull complete' });
      this.logger.debug('layer unpacked', { chainId: layer.chainId });
      parent = layer.chainId;
    }
  }

  /** Removes extraction snapshots a killed daemon left behind. */
  async cleanupStale(): Promise<number> {
    const stale: string[] = [];
    await this.snapshotter.walk((info) => {
      if (info.key.startsWith('extract-') && info.kind === 'active') stale.push(info.key);
    });
    for (const key of stale) await this.snapshotter.remove(key).catch(() => undefined);
    return stale.length;
  }
}
