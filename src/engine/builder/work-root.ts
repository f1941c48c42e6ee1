/**
 * Mounted roots for the steps that run no container: a writable snapshot on
 * the state's layers (COPY, ADD, WORKDIR), whose changes become a layer and
 * whose snapshot is committed as that layer's ChainID; and read-only views
 * of a stage or an image (COPY --from).
 */
import { randomBytes } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { LayerRecord } from '../../api/types/images';
import type { Digest } from '../../api/types/oci';
import { BerthError } from '../../common/errors';
import type { Logger } from '../../common/log';
import type { ContentStore } from '../content/store';
import { chainIds } from '../images/chain-id';
import type { LayerSnapshotter } from '../snapshots/dir-snapshotter';
import { mountAll, unmount } from '../snapshots/mount';
import type { BuildState } from './build-state';
import { topChain } from './build-state';
import { storeDiff } from './layer-diff';

export const WORK_PREFIX = 'build-';

export class WorkRoots {
  constructor(
    private readonly mountDir: string,
    private readonly snapshotter: LayerSnapshotter,
    private readonly content: ContentStore,
    private readonly logger: Logger,
  ) {}

  private newKey(): string {
    return `${WORK_PREFIX}${randomBytes(8).toString('hex')}`;
  }

  /** Runs `fn` on a read-only view of the state's root. */
  async withView<T>(state: BuildState, fn: (dir: string) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const key = this.newKey();
    const dir = path.join(this.mountDir, key);
    const mounts = await this.snapshotter.view(key, topChain(state), signal ? { signal } : {});
    try {
      await mountAll(mounts, dir, signal ? { signal } : {});
      try {
        return await fn(dir);
      } finally {
        await unmount(dir);
        await rm(dir, { recursive: true, force: true });
      }
    } finally {
      await this.snapshotter.remove(key);
    }
  }

  /**
   * Runs `fn` on a writable root on the state's layers; the changes become a
   * layer (undefined when there were none), committed as its ChainID.
   */
  async change(state: BuildState, fn: (dir: string) => Promise<void>, signal?: AbortSignal): Promise<Omit<LayerRecord, 'chainId'> | undefined> {
    const key = this.newKey();
    const dir = path.join(this.mountDir, key);
    const mounts = await this.snapshotter.prepare(key, topChain(state), signal ? { signal } : {});
    let committed = false;
    try {
      await mountAll(mounts, dir, signal ? { signal } : {});
      try {
        await fn(dir);
      } finally {
        await unmount(dir);
        await rm(dir, { recursive: true, force: true });
      }
      const target = await this.snapshotter.applyTarget(key);
      if ((await readdir(target.dir)).length === 0) return undefined;
      const layer = await storeDiff(this.content, target, signal ? { signal } : {});
      const chainId = chainIds([...state.config.rootfs.diff_ids, layer.diffId]).at(-1) as Digest;
      try {
        await this.snapshotter.commit(chainId, key);
        committed = true;
      } catch (err) {
        if (!BerthError.is(err, 'already_exists')) throw err;
      }
      return layer;
    } finally {
      if (!committed) await this.snapshotter.remove(key).catch((err: unknown) => this.logger.warn('cannot remove a build snapshot', { key, error: String(err) }));
    }
  }

  /** Removes work snapshots a killed daemon left behind. */
  async cleanupStale(): Promise<void> {
    const stale: string[] = [];
    await this.snapshotter.walk((info) => {
      if (info.key.startsWith(WORK_PREFIX) && info.kind !== 'committed') stale.push(info.key);
    });
    for (const key of stale) {
      await unmount(path.join(this.mountDir, key)).catch(() => undefined);
      await this.snapshotter.remove(key).catch(() => undefined);
    }
  }
}
