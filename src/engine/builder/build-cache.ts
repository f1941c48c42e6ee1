/**
 * The build cache: step key -> the state after the step. The key is a digest
 * of the state before, the instruction, the build args in scope and the
 * content of the files the step reads. An entry counts only while its
 * layers are still there (blob and snapshot).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../../common/errors';
import type { ContentStore } from '../content/store';
import { writeJsonAtomic } from '../images/records';
import type { Snapshotter } from '../snapshots/types';
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

export class BuildCache {
  constructor(
    private readonly root: string,
    private readonly content: ContentStore,
    private readonly snapshotter: Snapshotter,
  ) {}

  private file(key: string): string {
    return path.join(this.root, key.slice(0, 2), `${key}.json`);
  }

  async get(key: string): Promise<BuildState | undefined> {
    let state: BuildState;
    try {
      state = JSON.parse(await readFile(this.file(key), 'utf8')) as BuildState;
    } catch {
      return undefined;
    }
    const top = topChain(state);
    if (top === undefined) return state;
    try {
      await this.snapshotter.stat(top);
    } catch (err) {
      if (BerthError.is(err, 'not_found')) return undefined;
      throw err;
    }
    for (const l of state.layers) if (!(await this.content.has(l.digest))) return undefined;
    return state;
  }

  put(key: string, state: BuildState): Promise<void> {
    return writeJsonAtomic(this.file(key), state);
  }
}
