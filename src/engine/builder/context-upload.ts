/**
 * A build context sent as a tar stream (plain or gzip), unpacked into a
 * temporary directory with the layer writer's path checks (no entry lands
 * outside it, device nodes are refused); removed when the build is done.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { BerthError } from '../../common/errors';
import { applyLayer } from '../snapshots/apply-layer';
import { decompressLayer } from '../snapshots/decompress';

export async function withUploadedContext<T>(tmpRoot: string, body: Readable, fn: (dir: string) => Promise<T>, signal?: AbortSignal): Promise<T> {
  const dir = await mkdtemp(path.join(tmpRoot, 'context-'));
  try {
    try {
      await applyLayer(decompressLayer('build context', body, signal), dir, { mode: 'native', ...(signal ? { signal } : {}) });
    } catch (err) {
      throw new BerthError('invalid_argument', `cannot read the build context: ${(err as Error).message}`, { cause: err });
    }
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
