/**
 * Unpacks an image's layers into committed snapshots named by ChainID,
 * skipping those already there. Each layer is decompressed (gzip, zstd or
 * none by media type), applied in an active snapshot `extract-<random>-<chainId>`,
 * checked against its diff id, then committed. A failure removes the active
 * snapshot; one left by a killed daemon is removed by cleanupStale() at start.
 */
import { randomBytes } from 'node:crypto';
import { pipeline, Transform, type Readable } from 'node:stream';
import { BerthError } from '../../common/errors';
import type { Logger } from '../../common/log';
import type { Digest } from '../../api/types/oci';
import { applyLayer } from './apply-layer';
import { decompressLayer } from './decompress';
import type { LayerSnapshotter } from './dir-snapshotter';

export interface LayerToUnpack {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly diffId: Digest;
  readonly chainId: Digest;
}

export interface UnpackProgress {
  readonly id: string;
  readonly status: string;
  readonly current?: number;
  readonly total?: number;
}

export interface EnsureChainOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: UnpackProgress) => void;
}

const STALE_PREFIX = 'extract-';

/** The one definition lives with the image identities. */
export { chainIds } from '../images/chain-id';

export class LayerUnpacker {
  /** Layers being unpacked by this process, so that two pulls sharing a layer unpack it once. */
  private readonly inflight = new Map<Digest, Promise<void>>();

  constructor(
    private readonly snapshotter: LayerSnapshotter,
    private readonly logger: Logger,
  ) {}

  private async exists(key: string): Promise<boolean> {
    try {
      await this.snapshotter.stat(key);
      return true;
    } catch (err) {
      if (BerthError.is(err, 'not_found')) return false;
      throw err;
    }
  }

  async ensureChain(layers: readonly LayerToUnpack[], openBlob: (digest: Digest) => Readable, options: EnsureChainOptions = {}): Promise<void> {
    let parent: Digest | undefined;
    for (const layer of layers) {
      options.signal?.throwIfAborted();
      if (!(await this.exists(layer.chainId))) {
        let running = this.inflight.get(layer.chainId);
        if (!running) {
          running = this.unpack(layer, parent, openBlob, options).finally(() => this.inflight.delete(layer.chainId));
          this.inflight.set(layer.chainId, running);
        }
        await running;
      }
      parent = layer.chainId;
    }
  }

  private async unpack(layer: LayerToUnpack, parent: Digest | undefined, openBlob: (digest: Digest) => Readable, options: EnsureChainOptions): Promise<void> {
    const id = layer.digest.slice(7, 19);
    const log = this.logger.child({ layer: layer.digest, chainId: layer.chainId });
    const key = `${STALE_PREFIX}${randomBytes(6).toString('hex')}-${layer.chainId}`;
    const started = Date.now();
    options.onProgress?.({ id, status: 'Extracting' });
    await this.snapshotter.prepare(key, parent, options.signal ? { signal: options.signal } : {});
    try {
      const target = await this.snapshotter.applyTarget(key);
      let read = 0;
      let reported = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          read += chunk.length;
          if (read - reported >= 8 * 1024 * 1024) {
            reported = read;
            options.onProgress?.({ id, status: 'Extracting', current: read });
          }
          cb(null, chunk);
        },
      });
      pipeline(openBlob(layer.digest), counter, () => undefined);
      const tar = decompressLayer(layer.mediaType, counter, options.signal);
      const result = await applyLayer(tar, target.dir, { mode: target.mode, lowers: target.lowers, ...(options.signal ? { signal: options.signal } : {}) });
      if (result.diffId !== layer.diffId) {
        throw new BerthError('invalid_argument', `layer ${layer.digest} does not match the image: its diff id is ${result.diffId}, the image says ${layer.diffId}`, {
          details: { digest: layer.digest, diffId: result.diffId, expected: layer.diffId },
        });
      }
      await this.commit(layer.chainId, key);
      const seconds = (Date.now() - started) / 1000;
      log.debug('layer unpacked', { bytes: result.size, entries: result.entries, seconds });
    } catch (err) {
      await this.snapshotter.remove(key).catch((e: unknown) => log.warn('cannot remove a failed extraction', { key, error: String(e) }));
      throw err;
    }
    options.onProgress?.({ id, status: 'Pull complete' });
  }

  private async commit(chainId: Digest, key: string): Promise<void> {
    try {
      await this.snapshotter.commit(chainId, key);
    } catch (err) {
      // Another process committed the same chain meanwhile: theirs is as good as ours.
      if (!BerthError.is(err, 'already_exists')) throw err;
      await this.snapshotter.remove(key);
    }
  }

  /** Removes extraction snapshots a killed daemon left behind; returns how many. */
  async cleanupStale(): Promise<number> {
    const stale: string[] = [];
    await this.snapshotter.walk((info) => {
      if (info.key.startsWith(STALE_PREFIX) && info.kind === 'active') stale.push(info.key);
    });
    for (const key of stale) {
      await this.snapshotter.remove(key);
      this.logger.info('removed a half-unpacked layer', { key });
    }
    return stale.length;
  }
}
