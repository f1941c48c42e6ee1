/**
 * Applies one uncompressed layer tar to a directory (an overlay upper or a
 * full native tree, see layer-writer) and returns its diff id, the sha256 of
 * the stream. Hostile archives are refused with the entry named, and nothing
 * is written outside the directory.
 */
import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract } from 'tar-stream';
import { BerthError } from '../../common/errors';
import type { Digest } from '../../api/types/oci';
import { type ApplyLimits, type ApplyMode, DEFAULT_LIMITS, LayerWriter } from './layer-writer';
import { TarXattrScanner } from './tar-xattrs';

export { DEFAULT_LIMITS, type ApplyLimits, type ApplyMode } from './layer-writer';
export { safeRelative } from './safe-path';

export interface ApplyOptions {
  /** "overlay" (default): `root` is an empty overlay upper; "native": `root` holds the full tree of the lower layers. */
  readonly mode?: ApplyMode;
  /** Overlay mode: the lower layers' directories, top-most first (hard links to their files are copied up). */
  readonly lowers?: readonly string[];
  readonly limits?: Partial<ApplyLimits>;
  readonly signal?: AbortSignal;
}

export interface ApplyResult {
  readonly diffId: Digest;
  /** Bytes of the uncompressed tar. */
  readonly size: number;
  readonly entries: number;
}

export async function applyLayer(tar: Readable, root: string, options: ApplyOptions = {}): Promise<ApplyResult> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const writer = new LayerWriter(root, options.mode ?? 'overlay', options.lowers ?? [], limits);
  const scanner = new TarXattrScanner();
  const hash = createHash('sha256');
  let size = 0;
  const hasher = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      try {
        hash.update(chunk);
        size += chunk.length;
        scanner.write(chunk);
        cb(null, chunk);
      } catch (err) {
        cb(err as Error);
      }
    },
  });
  const ex = extract();
  ex.on('entry', (header, entryStream, next) => {
    const stream = entryStream as unknown as Readable;
    stream.on('error', () => undefined); // the extractor reports the same error to the pipeline
    writer.apply(header, stream, scanner.next()).then(
      () => {
        stream.resume();
        next();
      },
      (err: unknown) => {
        stream.resume();
        next(asApplyError(err, header.name));
      },
    );
  });
  try {
    await pipeline(tar, hasher, ex, options.signal ? { signal: options.signal } : {});
  } catch (err) {
    if (BerthError.is(err)) throw err;
    if (err instanceof Error && err.name === 'AbortError') throw new BerthError('cancelled', 'layer extraction was cancelled', { cause: err });
    if (typeof (err as NodeJS.ErrnoException).code === 'string' && (err as NodeJS.ErrnoException).syscall) {
      throw new BerthError('internal', `cannot read the layer: ${(err as Error).message}`, { cause: err });
    }
    // What is left: tar-stream's parse errors.
    throw new BerthError('invalid_argument', `the layer is not a valid tar archive: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  await writer.finish();
  return { diffId: `sha256:${hash.digest('hex')}`, size, entries: writer.entries };
}

function asApplyError(err: unknown, entry: string): Error {
  if (err instanceof BerthError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new BerthError('internal', `cannot extract layer entry "${entry}": ${message}`, { cause: err, details: { entry } });
}
