/**
 * The content store: immutable blobs addressed by their sha256 digest under
 * <root>/blobs/sha256/<hex>. Writes go through ingests (<root>/ingest/<key>)
 * that survive interruption: a resumed ingest continues from its partial
 * file, re-hashing what is already there. Commit verifies size and digest,
 * then renames into place atomically.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../../common/errors';
import type { Digest } from '../../api/types/oci';

const DIGEST = /^sha256:[a-f0-9]{64}$/;

export function assertDigest(value: string): asserts value is Digest {
  if (!DIGEST.test(value)) throw new BerthError('invalid_argument', `not a sha256 digest: ${value}`);
}

export function sha256(data: Buffer | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export interface Ingest {
  /** Bytes already written (non-zero when resuming). */
  readonly offset: number;
  write(chunk: Buffer): Promise<void>;
  /** Verifies and moves the blob into the store. */
  commit(): Promise<Digest>;
  /** Closes the file; the partial data stays for a later resume unless `discard`. */
  close(options?: { discard?: boolean }): Promise<void>;
}

export class ContentStore {
  constructor(readonly root: string) {}

  blobPath(digest: Digest): string {
    assertDigest(digest);
    return path.join(this.root, 'blobs', 'sha256', digest.slice(7));
  }

  async has(digest: Digest): Promise<boolean> {
    return stat(this.blobPath(digest)).then(
      () => true,
      () => false,
    );
  }

  async size(digest: Digest): Promise<number> {
    try {
      return (await stat(this.blobPath(digest))).size;
    } catch (err) {
      throw new BerthError('not_found', `content ${digest} not found`, { cause: err });
    }
  }

  openRead(digest: Digest): ReadStream {
    return createReadStream(this.blobPath(digest));
  }

  async read(digest: Digest, options: { signal?: AbortSignal } = {}): Promise<Buffer> {
    try {
      return await readFile(this.blobPath(digest), options.signal ? { signal: options.signal } : {});
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BerthError('not_found', `content ${digest} not found`, { cause: err });
      throw err;
    }
  }

  /** Stores a small blob (manifests, configs) and returns its digest. */
  async put(data: Buffer, expected?: Digest): Promise<Digest> {
    const digest = sha256(data);
    if (expected && expected !== digest) throw new BerthError('invalid_argument', `digest mismatch: expected ${expected}, got ${digest}`);
    if (await this.has(digest)) return digest;
    const file = this.blobPath(digest);
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.tmp-${randomBytes(6).toString('hex')}`;
    await writeFile(tmp, data);
    await rename(tmp, file);
    return digest;
  }

  async delete(digest: Digest): Promise<void> {
    await rm(this.blobPath(digest), { force: true });
  }

  async list(): Promise<Digest[]> {
    const dir = path.join(this.root, 'blobs', 'sha256');
    const names = await readdir(dir).catch(() => [] as string[]);
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n): Digest => `sha256:${n}`);
  }

  /**
   * Opens (or resumes) the ingest for `expected`. Concurrent ingests of the
   * same digest use the same key; the second waits for nothing and simply
   * races to an identical rename, which is harmless for identical content.
   */
  async ingest(expected: Digest, expectedSize?: number): Promise<Ingest> {
    assertDigest(expected);
    const dir = path.join(this.root, 'ingest');
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, expected.slice(7));
    const fh = await open(file, 'a+');
    let hash: Hash = createHash('sha256');
    let offset = 0;
    // Re-hash what an earlier attempt left, so the download resumes where it stopped.
    for await (const chunk of fh.createReadStream({ start: 0, autoClose: false })) {
      hash.update(chunk as Buffer);
      offset += (chunk as Buffer).length;
    }
    if (expectedSize !== undefined && offset > expectedSize) {
      // Longer than the blob can be: start over.
      await fh.truncate(0);
      offset = 0;
      hash = createHash('sha256');
    }
    let written = offset;
    const blobPath = (d: Digest): string => this.blobPath(d);
    return {
      offset,
      async write(chunk) {
        await fh.write(chunk, 0, chunk.length, written);
        hash.update(chunk);
        written += chunk.length;
      },
      async commit() {
        await fh.sync();
        await fh.close();
        const digest: Digest = `sha256:${hash.digest('hex')}`;
        if (expectedSize !== undefined && written !== expectedSize) {
          await rm(file, { force: true });
          throw new BerthError('invalid_argument', `size mismatch for ${expected}: expected ${expectedSize} bytes, got ${written}`);
        }
        if (digest !== expected) {
          await rm(file, { force: true });
          throw new BerthError('invalid_argument', `digest mismatch: expected ${expected}, got ${digest}`);
        }
        const target = blobPath(expected);
        await mkdir(path.dirname(target), { recursive: true });
        await rename(file, target);
        return expected;
      },
      async close(options = {}) {
        await fh.close().catch(() => undefined);
        if (options.discard) await rm(file, { force: true });
      },
    };
  }
}
