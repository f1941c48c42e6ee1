/**
 * The content store: immutable blobs addressed by their sha256 digest under
 * <root>/blobs/sha256/<hex>. Writes go through ingests (<root>/ingest/<hex>)
 * that survive interruption: a resumed ingest continues from its partial
 * file, re-hashing what is already there. Commit verifies size and digest,
 * then renames into place atomically. One writer per digest at a time (an
 * in-process queue plus a lock file for other processes); the others wait and
 * then find the blob committed.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, openSync, type ReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../../common/errors';
import { BoundedMap } from '../../common/bounded-map';
import type { Digest } from '../../api/types/oci';
import { acquireLock, type Lock } from './lock';

const DIGEST = /^sha256:[a-f0-9]{64}$/;

export function isDigest(value: unknown): value is Digest {
  return typeof value === 'string' && DIGEST.test(value);
}

export function assertDigest(value: string): asserts value is Digest {
  if (!DIGEST.test(value)) throw new BerthError('invalid_argument', `not a sha256 digest: ${value}`);
}

export function sha256(data: Buffer | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export interface ContentInfo {
  readonly digest: Digest;
  readonly size: number;
  /** Last modification (commit) time, for garbage collection grace periods. */
  readonly updatedAt: Date;
}

export interface IngestInfo {
  readonly key: string;
  readonly offset: number;
  readonly updatedAt: Date;
}

export interface Ingest {
  readonly expected: Digest;
  /** True when the blob was committed (by someone else) meanwhile: nothing to write, just close. */
  readonly exists: boolean;
  /** Bytes already written (non-zero when resuming). */
  readonly offset: number;
  write(chunk: Buffer): Promise<void>;
  /** Drops what was written so far (the source could not resume). */
  reset(): Promise<void>;
  /** Verifies size and digest, moves the blob into the store and releases the ingest. */
  commit(): Promise<Digest>;
  /** Releases the ingest; the partial data stays for a later resume unless `discard`. */
  close(options?: { discard?: boolean }): Promise<void>;
}

function notFound(digest: Digest, err: unknown): BerthError {
  return new BerthError('not_found', `content ${digest} not found`, { cause: err });
}

/** How many blobs the store remembers as present (a fully cached build asks for each of its layers). */
const KNOWN_PRESENT = 4096;

export class ContentStore {
  private readonly locks = new Map<string, Promise<void>>();
  /**
   * Blobs known to be committed: the engine is the only writer of its store and
   * forgets a blob when it deletes it, so a known blob needs no stat.
   */
  private readonly present = new BoundedMap<Digest, true>(KNOWN_PRESENT);

  constructor(readonly root: string) {}

  blobPath(digest: Digest): string {
    assertDigest(digest);
    return path.join(this.root, 'blobs', 'sha256', digest.slice(7));
  }

  async has(digest: Digest): Promise<boolean> {
    const file = this.blobPath(digest);
    if (this.present.has(digest)) return true;
    return stat(file).then(
      () => (this.present.set(digest, true), true),
      () => false,
    );
  }

  async info(digest: Digest): Promise<ContentInfo> {
    try {
      const st = await stat(this.blobPath(digest));
      return { digest, size: st.size, updatedAt: st.mtime };
    } catch (err) {
      throw notFound(digest, err);
    }
  }

  /** A read stream of the blob; not_found (synchronously) when it is absent. */
  openRead(digest: Digest, options: { start?: number; end?: number } = {}): ReadStream {
    const file = this.blobPath(digest);
    let fd: number;
    try {
      // Open now so that a missing blob is an immediate, typed error rather than a stream error later.
      fd = openSync(file, 'r');
    } catch (err) {
      throw notFound(digest, err);
    }
    return createReadStream(file, { fd, ...(options.start ? { start: options.start } : {}), ...(options.end !== undefined ? { end: options.end } : {}) });
  }

  async read(digest: Digest, options: { signal?: AbortSignal } = {}): Promise<Buffer> {
    try {
      return await readFile(this.blobPath(digest), options.signal ? { signal: options.signal } : {});
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(digest, err);
      throw err;
    }
  }

  async readJson<T>(digest: Digest, options: { signal?: AbortSignal } = {}): Promise<T> {
    const data = await this.read(digest, options);
    try {
      return JSON.parse(data.toString('utf8')) as T;
    } catch (err) {
      throw new BerthError('invalid_argument', `content ${digest} is not valid JSON`, { cause: err });
    }
  }

  /** Stores a small blob (manifests, configs) and returns its digest. */
  async put(data: Buffer | string, expected?: Digest): Promise<Digest> {
    const digest = sha256(data);
    if (expected && expected !== digest) throw new BerthError('invalid_argument', `digest mismatch: expected ${expected}, got ${digest}`);
    if (await this.has(digest)) return digest;
    const file = this.blobPath(digest);
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.tmp-${randomBytes(6).toString('hex')}`;
    await writeFile(tmp, data);
    await rename(tmp, file);
    this.present.set(digest, true);
    return digest;
  }

  /** Stores a stream of unknown digest (imports); returns its digest and size. */
  async putStream(input: NodeJS.ReadableStream, options: { signal?: AbortSignal } = {}): Promise<{ digest: Digest; size: number }> {
    const dir = path.join(this.root, 'ingest');
    await mkdir(dir, { recursive: true });
    const tmp = path.join(dir, `tmp-${randomBytes(8).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    try {
      await pipeline(
        input,
        async function* (source: AsyncIterable<Buffer | string>) {
          for await (const chunk of source) {
            const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
            hash.update(buf);
            size += buf.length;
            yield buf;
          }
        },
        createWriteStream(tmp),
        options.signal ? { signal: options.signal } : {},
      );
      const digest: Digest = `sha256:${hash.digest('hex')}`;
      const target = this.blobPath(digest);
      await mkdir(path.dirname(target), { recursive: true });
      await rename(tmp, target);
      this.present.set(digest, true);
      return { digest, size };
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** Moves `file` (on the same file system) into the store after checking it hashes to `expected`. */
  async putFile(file: string, expected: Digest, options: { signal?: AbortSignal } = {}): Promise<void> {
    assertDigest(expected);
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(file, options.signal ? { signal: options.signal } : {})) hash.update(chunk as Buffer);
    const digest: Digest = `sha256:${hash.digest('hex')}`;
    if (digest !== expected) throw new BerthError('invalid_argument', `digest mismatch: expected ${expected}, got ${digest}`);
    const target = this.blobPath(expected);
    await mkdir(path.dirname(target), { recursive: true });
    await rename(file, target);
    this.present.set(expected, true);
  }

  async delete(digest: Digest): Promise<void> {
    this.present.delete(digest);
    await rm(this.blobPath(digest), { force: true });
  }

  /** Every committed blob with its size and time, for garbage collection. */
  async list(): Promise<ContentInfo[]> {
    const dir = path.join(this.root, 'blobs', 'sha256');
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => /^[a-f0-9]{64}$/.test(n));
    const infos = await Promise.all(names.map((n) => this.info(`sha256:${n}`).catch(() => undefined)));
    return infos.filter((i): i is ContentInfo => i !== undefined);
  }

  /** Partial downloads, for garbage collection of abandoned ones. */
  async ingests(): Promise<IngestInfo[]> {
    const dir = path.join(this.root, 'ingest');
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => /^[a-f0-9]{64}$/.test(n));
    const out: IngestInfo[] = [];
    for (const key of names) {
      const st = await stat(path.join(dir, key)).catch(() => undefined);
      if (st) out.push({ key, offset: st.size, updatedAt: st.mtime });
    }
    return out;
  }

  async abortIngest(key: string): Promise<void> {
    if (!/^[a-f0-9]{64}$/.test(key)) throw new BerthError('invalid_argument', `not an ingest key: ${key}`);
    await rm(path.join(this.root, 'ingest', key), { force: true });
  }

  /**
   * Opens (or resumes) the ingest for `expected`. Writers of the same digest
   * take turns; a later one finds `exists` true once the first committed.
   */
  async ingest(expected: Digest, options: { size?: number; signal?: AbortSignal } = {}): Promise<Ingest> {
    assertDigest(expected);
    const dir = path.join(this.root, 'ingest');
    await mkdir(dir, { recursive: true });
    const key = expected.slice(7);
    const file = path.join(dir, key);
    const lock = await acquireLock(this.locks, `${file}.lock`, options.signal);
    try {
      if (await this.has(expected)) {
        return { expected, exists: true, offset: 0, write: () => Promise.reject(new Error('ingest: blob exists')), reset: async () => {}, commit: async () => (await lock.release(), expected), close: () => lock.release() };
      }
      return await this.openIngest(expected, file, lock, options.size);
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  private async openIngest(expected: Digest, file: string, lock: Lock, size: number | undefined): Promise<Ingest> {
    const fh = await open(file, 'a+');
    let hash: Hash = createHash('sha256');
    let offset = 0;
    // Re-hash what an earlier attempt left, so the download resumes where it stopped.
    for await (const chunk of fh.createReadStream({ start: 0, autoClose: false })) {
      hash.update(chunk as Buffer);
      offset += (chunk as Buffer).length;
    }
    if (size !== undefined && offset > size) {
      // Longer than the blob can be: start over.
      await fh.truncate(0);
      offset = 0;
      hash = createHash('sha256');
    }
    let written = offset;
    let closed = false;
    const blobPath = this.blobPath(expected);
    const present = this.present;
    const finish = async (discard: boolean): Promise<void> => {
      if (closed) return;
      closed = true;
      await fh.close().catch(() => undefined);
      if (discard) await rm(file, { force: true });
      await lock.release();
    };
    return {
      expected,
      exists: false,
      offset,
      async write(chunk) {
        if (size !== undefined && written + chunk.length > size) {
          throw new BerthError('invalid_argument', `blob ${expected} is larger than expected (${size} bytes)`);
        }
        await fh.write(chunk, 0, chunk.length);
        hash.update(chunk);
        written += chunk.length;
      },
      async reset() {
        await fh.truncate(0);
        hash = createHash('sha256');
        written = 0;
      },
      async commit() {
        try {
          await fh.sync();
          const digest: Digest = `sha256:${hash.digest('hex')}`;
          if (size !== undefined && written !== size) {
            throw new BerthError('invalid_argument', `size mismatch for ${expected}: expected ${size} bytes, got ${written}`);
          }
          if (digest !== expected) throw new BerthError('invalid_argument', `digest mismatch: expected ${expected}, got ${digest}`);
          await mkdir(path.dirname(blobPath), { recursive: true });
          await rename(file, blobPath);
          present.set(expected, true);
          await finish(false);
          return expected;
        } catch (err) {
          // Bad data is not worth resuming.
          await finish(true);
          throw err;
        }
      },
      close: (options = {}) => finish(options.discard ?? false),
    };
  }
}
