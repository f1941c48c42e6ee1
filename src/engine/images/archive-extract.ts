/**
 * Unpacks an image archive (`docker save` or OCI layout tar, optionally
 * gzip-compressed) into a scratch directory, refusing anything that could
 * land outside it: absolute names, `..`, links that leave the archive,
 * device files. Only the files an image archive holds are kept.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { BerthError } from '../../common/errors';
import { isGzip, peek } from './import';

const KEPT = [
  /^manifest\.json$/,
  /^repositories$/,
  /^index\.json$/,
  /^oci-layout$/,
  /^blobs\/sha256\/[a-f0-9]{64}$/,
  /^[a-f0-9]{64}\.(json|tar)$/,
  /^[a-f0-9]{64}\/(layer\.tar|json|VERSION)$/,
];
const MAX_METADATA = 16 * 1024 * 1024;

export interface ExtractedArchive {
  readonly dir: string;
  /** Archive names that are symlinks to other archive names (legacy `docker save` shares layers this way). */
  readonly links: ReadonlyMap<string, string>;
  readonly files: ReadonlySet<string>;
  /** The on-disk path of an archive name, following links; undefined when absent. */
  resolve(name: string): string | undefined;
}

/** The archive name in canonical form, or a refusal for hostile names. */
export function safeArchiveName(raw: string): string {
  const name = raw.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  if (name === '' || name === '.') return '';
  if (name.startsWith('/') || name.includes('\0')) throw new BerthError('invalid_argument', `refusing image archive entry "${raw}": absolute path`);
  const parts = name.split('/');
  if (parts.some((p) => p === '..')) throw new BerthError('invalid_argument', `refusing image archive entry "${raw}": path traversal`);
  return parts.filter((p) => p !== '.' && p !== '').join('/');
}

export async function extractArchive(input: Readable, dir: string, options: { signal?: AbortSignal } = {}): Promise<ExtractedArchive> {
  const { head, stream } = await peek(input, 2);
  const extract = tar.extract();
  const links = new Map<string, string>();
  const files = new Set<string>();
  extract.on('entry', (header, body, next) => {
    const handle = async (): Promise<void> => {
      options.signal?.throwIfAborted();
      const name = safeArchiveName(header.name);
      if (header.type === 'directory' || name === '') return void body.resume();
      if (header.type === 'symlink' || header.type === 'link') {
        const target = header.type === 'symlink' ? path.posix.join(path.posix.dirname(name), header.linkname ?? '') : (header.linkname ?? '');
        if (path.posix.isAbsolute(header.linkname ?? '') || target.startsWith('../') || target === '..') {
          throw new BerthError('invalid_argument', `refusing image archive entry "${header.name}": link to "${header.linkname ?? ''}" leaves the archive`);
        }
        links.set(name, safeArchiveName(target));
        return void body.resume();
      }
      if (header.type !== 'file' && header.type !== 'contiguous-file') {
        throw new BerthError('invalid_argument', `refusing image archive entry "${header.name}": unsupported type ${header.type ?? '?'}`);
      }
      if (!KEPT.some((re) => re.test(name))) return void body.resume();
      if (!name.includes('/') || name.endsWith('/json') || name.endsWith('/VERSION')) {
        if ((header.size ?? 0) > MAX_METADATA) throw new BerthError('invalid_argument', `refusing image archive entry "${name}": ${header.size ?? 0} bytes of metadata`);
      }
      const file = path.join(dir, ...name.split('/'));
      await mkdir(path.dirname(file), { recursive: true });
      await pipeline(body, createWriteStream(file));
      files.add(name);
    };
    handle().then(
      () => next(),
      (err: unknown) => {
        body.resume();
        next(err as Error);
      },
    );
  });
  await pipeline([stream, ...(isGzip(head) ? [createGunzip()] : []), extract], options.signal ? { signal: options.signal } : {}).catch((err: unknown) => {
    if (err instanceof BerthError) throw err;
    throw new BerthError('invalid_argument', `cannot read the image archive: ${(err as Error).message}`, { cause: err });
  });
  const resolve = (name: string): string | undefined => {
    let current = safeArchiveName(name);
    for (let hops = 0; hops < 16 && !files.has(current); hops++) {
      const next = links.get(current);
      if (next === undefined) return undefined;
      current = next;
    }
    return files.has(current) ? path.join(dir, ...current.split('/')) : undefined;
  };
  return { dir, links, files, resolve };
}
