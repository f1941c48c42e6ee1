/**
 * The build cache: step key -> the state after the step. The key is a digest
 * of the state before, the instruction, the build args in scope and the
 * content of the files the step reads. An entry counts only while its
 * layers are still there (blob and snapshot). Entries are files under the
 * root, with the recently used ones also kept in memory; a build checks
 * each layer (snapshot and blob) once.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Digest } from '../../api/types/oci';
import { BerthError } from '../../common/errors';
import type { ContentStore } from '../content/store';
import { writeJsonAtomic } from '../images/records';
import type { Snapshotter } from '../snapshots/types';
import { BoundedMap } from '../../common/bounded-map';
import { type BuildState, topChain } from './build-state';

export interface CacheKeyParts {
  readonly parent: string;
  readonly instruction: string;
  readonly args: readonly string[];
  /** Digest of the files read (COPY, ADD), "" otherwise. */
  readonly content: string;
}

export function cacheKey(parts: CacheKeyParts): string {
  return createHash('sha256').update(JSON.stringify([parts.parent, parts.instruction, parts.args, parts.content])).digest('hex');
}

/** Entries kept in memory (a state is a few KiB). */
const IN_MEMORY = 1024;

/**
 * What one build found of the layers: committed snapshots and
 * blobs (each checked once). Lives as long as the build.
 */
export class LayerCheck {
  private readonly snapshots = new Map<string, Promise<boolean>>();
  private readonly blobs = new Map<string, Promise<boolean>>();

  constructor(
    private readonly content: ContentStore,
    private readonly snapshotter: Snapshotter,
  ) {}

  /** True when the state's top snapshot and every layer blob exist. */
  async present(state: BuildState): Promise<boolean> {
    const top = topChain(state);
    if (top === undefined) return true;
    if (!(await this.snapshot(top))) return false;
    const found = await Promise.all(state.layers.map((l) => this.blob(l.digest)));
    return found.every(Boolean);
  }

  /** A snapshot or blob this build made itself. */
  made(state: BuildState): void {
    const top = topChain(state);
    if (top !== undefined) this.snapshots.set(top, Promise.resolve(true));
    for (const l of state.layers) this.blobs.set(l.digest, Promise.resolve(true));
  }

  /** Whether `key` is a committed snapshot (each key looked up once per build). */
  private snapshot(key: string): Promise<boolean> {
    let found = this.snapshots.get(key);
    if (!found) {
      found = this.snapshotter.stat(key).then(
        (info) => info.kind === 'committed',
        (err: unknown) => {
          if (BerthError.is(err, 'not_found')) return false;
          throw err;
        },
      );
      this.snapshots.set(key, found);
    }
    return found;
  }

  private blob(digest: Digest): Promise<boolean> {
    let found = this.blobs.get(digest);
    if (!found) {
      found = this.content.has(digest);
      this.blobs.set(digest, found);
    }
    return found;
  }
}

export class BuildCache {
  private readonly recent = new BoundedMap<string, BuildState>(IN_MEMORY);

  constructor(
    private readonly root: string,
    private readonly content: ContentStore,
    private readonly snapshotter: Snapshotter,
  ) {}

  private file(key: string): string {
    return path.join(this.root, key.slice(0, 2), `${key}.json`);
  }

  /** A check of layers for one build. */
  check(): LayerCheck {
    return new LayerCheck(this.content, this.snapshotter);
  }

  async get(key: string, check: LayerCheck): Promise<BuildState | undefined> {
    let state = this.recent.get(key);
    if (!state) {
      try {
        state = JSON.parse(await readFile(this.file(key), 'utf8')) as BuildState;
      } catch {
        return undefined;
      }
    }
    if (!(await check.present(state))) {
      this.recent.delete(key);
      return undefined;
    }
    this.recent.set(key, state);
    return state;
  }

  async put(key: string, state: BuildState): Promise<void> {
    await writeJsonAtomic(this.file(key), state);
    this.recent.set(key, state);
  }
}
