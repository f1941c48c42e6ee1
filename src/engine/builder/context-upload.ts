/**
 * Build contexts sent as tar streams (plain or gzip). The stream is saved
 * and hashed; a context seen before (same digest: same names, modes, times
 * and contents) is used again from where it was unpacked, so a rebuild of an
 * unchanged context unpacks nothing. New ones are unpacked by GNU tar
 * (several times faster than a JavaScript extraction for many small files);
 * GNU tar keeps entries inside the directory: it refuses member names with
 * "..", strips a leading "/", and makes symbolic links that point up or out
 * only after everything else (placeholders meanwhile), so no later entry
 * writes through them. Owners are not kept (COPY sets its own). The last
 * few contexts are kept; builds never change them.
 */
import { createHash } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, open, readdir, rename, rm, stat, utimes, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError } from '../../common/errors';
import { runChecked } from '../../common/process/spawn';
import { decompressLayer } from '../snapshots/decompress';

const KEEP = 8;
/** Contexts up to this size stay in memory until they are known to be new. */
const IN_MEMORY = 64 * 1024 * 1024;

/** A sink that hashes what it gets and keeps it in memory, spilling to a file (made on first need) past IN_MEMORY or when asked. */
class Spool extends Writable {
  private chunks: Buffer[] | undefined = [];
  private out: FileHandle | undefined;
  /** The file has content already (opened again: append). */
  private spilled = false;
  private readonly hash = createHash('sha256');
  size = 0;

  constructor(private readonly file: () => Promise<string>) {
    super({ highWaterMark: 1024 * 1024 });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    if (this.chunks && this.size <= IN_MEMORY) {
      this.chunks.push(chunk);
      return done();
    }
    this.toFile()
      .then(async () => void (await this.out?.write(chunk)))
      .then(() => done(), done);
  }

  override _final(done: (err?: Error | null) => void): void {
    done();
  }

  /** The digest (hex) of everything written; call once, after the stream ended. */
  digest(): string {
    return this.hash.digest('hex');
  }

  /** Everything received so far (and what follows) goes to the file, which is then complete once the stream ended. */
  async toFile(): Promise<string> {
    const file = await this.file();
    if (!this.out) {
      this.out = await open(file, this.spilled ? 'a' : 'w', 0o600);
      this.spilled = true;
    }
    const pending = this.chunks ?? [];
    this.chunks = undefined;
    for (const c of pending) await this.out.write(c);
    if (this.writableFinished) {
      await this.out.close();
      this.out = undefined;
    }
    return file;
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    const closing = this.out?.close();
    this.out = undefined;
    (closing ?? Promise.resolve()).then(() => done(err), () => done(err));
  }
}

/** Marks a stored context as just used (pruning keeps the recent ones); false when it is not there. */
function touch(dir: string): Promise<boolean> {
  const now = new Date();
  return utimes(dir, now, now).then(
    () => true,
    () => false,
  );
}

export interface UploadedContext {
  readonly dir: string;
  /** Digest of the uncompressed tar: equal digests, equal contexts. */
  readonly digest: string;
}

export class ContextStore {
  private readonly inUse = new Map<string, number>();

  constructor(private readonly root: string) {}

  /** Unpacks (or finds) the context of `body` and runs `fn` on it. */
  async with<T>(body: Readable, fn: (ctx: UploadedContext) => Promise<T>, signal?: AbortSignal): Promise<T> {
    // The scratch directory is made only for a context not seen before (or too big to keep in memory).
    let tmp: Promise<string> | undefined;
    const scratch = (): Promise<string> => (tmp ??= mkdtemp(path.join(this.root, '.upload-')));
    let added = false;
    try {
      const spool = new Spool(async () => path.join(await scratch(), 'context.tar'));
      try {
        await pipeline(decompressLayer('build context', body, signal), spool, signal ? { signal } : {});
      } catch (err) {
        throw new BerthError(BerthError.is(err, 'cancelled') ? 'cancelled' : 'invalid_argument', `cannot read the build context: ${(err as Error).message}`, { cause: err });
      }
      const digest = spool.digest();
      const dir = path.join(this.root, digest);
      this.inUse.set(digest, (this.inUse.get(digest) ?? 0) + 1);
      try {
        if (!(await touch(dir))) {
          const file = await spool.toFile();
          // The docker CLI sends a context with a Dockerfile from outside it without padding
          // or end blocks (Docker's own reader does not mind); GNU tar needs them.
          await appendFile(file, Buffer.alloc(((512 - (spool.size % 512)) % 512) + 1024));
          const into = path.join(await scratch(), 'ctx');
          await mkdir(into);
          await runChecked(['tar', '-x', '-p', '--no-same-owner', '--delay-directory-restore', '-C', into, '-f', file], signal ? { signal } : {}).catch((err: unknown) => {
            throw new BerthError('invalid_argument', `cannot unpack the build context: ${(err as Error).message}`, { cause: err });
          });
          await rename(into, dir).catch(async (err: unknown) => {
            if (!(await stat(dir).catch(() => undefined))) throw err; // another build put the same context there first
          });
          added = true;
        }
        return await fn({ dir, digest });
      } finally {
        const left = (this.inUse.get(digest) ?? 1) - 1;
        if (left > 0) this.inUse.set(digest, left);
        else this.inUse.delete(digest);
      }
    } finally {
      if (tmp) await tmp.then((d) => rm(d, { recursive: true, force: true }), () => undefined);
      if (added) await this.prune().catch(() => undefined);
    }
  }

  /** Runs `fn` on a context stored before (by a build that sent it); not_found (details.context) when it is not here (any more). */
  async withStored<T>(digest: string, fn: (ctx: UploadedContext) => Promise<T>): Promise<T> {
    if (!/^[0-9a-f]{64}$/.test(digest)) throw new BerthError('invalid_argument', `a build context is named by its sha256 (64 hex digits), not "${digest}"`);
    const dir = path.join(this.root, digest);
    this.inUse.set(digest, (this.inUse.get(digest) ?? 0) + 1);
    try {
      if (!(await touch(dir))) throw new BerthError('not_found', `build context sha256:${digest} is not stored in the engine`, { details: { context: digest } });
      return await fn({ dir, digest });
    } finally {
      const left = (this.inUse.get(digest) ?? 1) - 1;
      if (left > 0) this.inUse.set(digest, left);
      else this.inUse.delete(digest);
    }
  }

  /** Keeps the most recently used contexts. */
  private async prune(): Promise<void> {
    const names = (await readdir(this.root)).filter((n) => /^[0-9a-f]{64}$/.test(n) && !this.inUse.has(n));
    if (names.length <= KEEP) return;
    const dated = await Promise.all(names.map(async (n) => ({ n, t: (await stat(path.join(this.root, n))).mtimeMs })));
    dated.sort((a, b) => b.t - a.t);
    for (const { n } of dated.slice(KEEP)) await rm(path.join(this.root, n), { recursive: true, force: true });
  }
}
