/**
 * ADD from an http(s) URL, as Docker's classic builder does it: the file is
 * downloaded on every build (its content, name and time key the step's
 * cache), named after the URL's last path segment (else the response's
 * Content-Disposition), given mode 0600 and the Last-Modified time, and
 * never extracted. `--checksum=sha256:HEX` is checked against the content.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError } from '../../common/errors';

export const isUrl = (source: string): boolean => /^https?:\/\//i.test(source);

export interface Download {
  readonly url: string;
  /** The file's name in `dir`. */
  readonly name: string;
  /** sha256 of the content, "sha256:HEX". */
  readonly digest: string;
  /** From Last-Modified, when the server sent one. */
  readonly mtime?: Date;
}

export interface Downloads {
  readonly dir: string;
  readonly files: readonly Download[];
  /** Removes the downloaded files. */
  readonly release: () => Promise<void>;
}

/** The file name the URL (or the response) gives; undefined when neither does. */
function fileName(url: URL, disposition: string | null): string | undefined {
  const last = decodeURIComponent(url.pathname.split('/').at(-1) ?? '');
  if (last !== '' && last !== '.' && last !== '..') return last;
  const m = disposition ? /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition) : null;
  const named = m?.[1] ? path.posix.basename(decodeURIComponent(m[1])) : '';
  return named !== '' && named !== '.' && named !== '..' ? named : undefined;
}

function checksumOf(flag: string): string {
  const m = /^sha256:([a-f0-9]{64})$/.exec(flag.trim().toLowerCase());
  if (!m) throw new BerthError('invalid_argument', `--checksum must be sha256:<64 hex digits> (got "${flag}")`);
  return `sha256:${m[1] ?? ''}`;
}

async function fetchOne(url: string, dir: string, options: { checksum?: string; fallbackName?: string; signal?: AbortSignal }): Promise<Download> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow', ...(options.signal ? { signal: options.signal } : {}) });
  } catch (err) {
    if (options.signal?.aborted) throw new BerthError('cancelled', `download of ${url} cancelled`, { cause: err });
    throw new BerthError('unavailable', `cannot download ${url}: ${(err as Error).message}`, { cause: err });
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel().catch(() => undefined);
    throw new BerthError(response.status === 404 ? 'not_found' : 'unavailable', `cannot download ${url}: ${response.status} ${response.statusText}`, { details: { url, status: response.status } });
  }
  const name = fileName(new URL(response.url || url), response.headers.get('content-disposition')) ?? options.fallbackName;
  if (name === undefined) throw new BerthError('invalid_argument', `cannot determine a file name from ${url}: name the destination file`);
  const file = path.join(dir, name);
  const hash = createHash('sha256');
  const hasher = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>), hasher, createWriteStream(file, { flags: 'wx', mode: 0o600 }), options.signal ? { signal: options.signal } : {});
  } catch (err) {
    if (options.signal?.aborted) throw new BerthError('cancelled', `download of ${url} cancelled`, { cause: err });
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new BerthError('invalid_argument', `two URLs give the same file name ${name}`);
    throw new BerthError('unavailable', `cannot download ${url}: ${(err as Error).message}`, { cause: err });
  }
  const digest = `sha256:${hash.digest('hex')}`;
  if (options.checksum !== undefined && digest !== options.checksum) {
    throw new BerthError('invalid_argument', `checksum mismatch for ${url}: expected ${options.checksum}, got ${digest}`, { details: { url, expected: options.checksum, actual: digest } });
  }
  const modified = response.headers.get('last-modified');
  const mtime = modified ? new Date(modified) : undefined;
  if (mtime && !Number.isNaN(mtime.getTime())) {
    await utimes(file, mtime, mtime);
    return { url, name, digest, mtime };
  }
  return { url, name, digest };
}

/**
 * Downloads `urls` into a new directory under `root`. `fallbackName` names a
 * single file whose URL names none (the destination's last segment).
 */
export async function downloadAll(root: string, urls: readonly string[], options: { checksum?: string; fallbackName?: string; signal?: AbortSignal } = {}): Promise<Downloads> {
  if (options.checksum !== undefined && urls.length !== 1) throw new BerthError('invalid_argument', '--checksum needs exactly one URL source');
  const checksum = options.checksum === undefined ? undefined : checksumOf(options.checksum);
  const dir = await mkdtemp(path.join(root, 'download-'));
  const release = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    const files: Download[] = [];
    for (const url of urls) {
      files.push(
        await fetchOne(url, dir, {
          ...(checksum ? { checksum } : {}),
          ...(urls.length === 1 && options.fallbackName ? { fallbackName: options.fallbackName } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        }),
      );
    }
    return { dir, files, release };
  } catch (err) {
    await release();
    throw err;
  }
}
