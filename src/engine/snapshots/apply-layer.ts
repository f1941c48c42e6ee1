/**
 * Applies one uncompressed layer tar to an overlay upper directory. OCI
 * whiteouts become overlayfs whiteouts (0/0 character devices) and opaque
 * markers the `trusted.overlay.opaque` xattr. Hostile archives are refused
 * with the entry named, and nothing is written outside the directory.
 */
import { createHash } from 'node:crypto';
import { lstat, chmod, lchown, lutimes, mkdir, open, rm, symlink, link } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, type Header as Headers } from 'tar-stream';
import { BerthError } from '../../common/errors';
import { runChecked } from '../../common/process/spawn';
import type { Digest } from '../../api/types/oci';

export interface ApplyLimits {
  readonly maxEntrySize: number;
  readonly maxEntries: number;
}

export const DEFAULT_LIMITS: ApplyLimits = { maxEntrySize: 64 * 2 ** 30, maxEntries: 2_000_000 };

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE = '.wh..wh..opq';

function hostile(entry: string, why: string): BerthError {
  return new BerthError('invalid_argument', `refusing layer entry "${entry}": ${why}`, { details: { entry } });
}

/** The entry's path relative to the root, normalized; refuses anything that escapes. */
export function safeRelative(name: string): string {
  if (name.includes('\0')) throw hostile(name, 'the name contains a NUL byte');
  const normalized = path.posix.normalize(name.replace(/^\/+/, '')).replace(/\/+$/, '');
  if (normalized === '..' || normalized.startsWith('../')) throw hostile(name, 'the path escapes the layer root');
  return normalized === '.' ? '' : normalized;
}

/** Refuses if any existing parent of `rel` inside `root` is a symlink (writing through it could escape). */
async function checkParents(root: string, rel: string, entry: string): Promise<void> {
  const parts = rel.split('/').slice(0, -1);
  let current = root;
  for (const part of parts) {
    current = path.join(current, part);
    const st = await lstat(current).catch(() => undefined);
    if (!st) return;
    if (st.isSymbolicLink()) throw hostile(entry, `it goes through the symbolic link ${path.relative(root, current)}`);
    if (!st.isDirectory()) throw hostile(entry, `its parent ${path.relative(root, current)} is not a directory`);
  }
}

async function removeExisting(target: string): Promise<void> {
  const st = await lstat(target).catch(() => undefined);
  if (st && !(st.isDirectory() && !st.isSymbolicLink())) await rm(target, { force: true });
}

async function writeFileEntry(target: string, stream: Readable, mode: number, size: number): Promise<void> {
  const fh = await open(target, 'w', mode & 0o7777);
  try {
    let written = 0;
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      await fh.write(buf, 0, buf.length, written);
      written += buf.length;
    }
    if (written !== size) throw new BerthError('invalid_argument', `layer entry ${target} is truncated`);
  } finally {
    await fh.close();
  }
}

async function setXattrs(target: string, pax: Record<string, string> | undefined): Promise<void> {
  for (const [key, value] of Object.entries(pax ?? {})) {
    if (!key.startsWith('SCHILY.xattr.')) continue;
    const name = key.slice('SCHILY.xattr.'.length);
    await runChecked(['setfattr', '-h', '-n', name, '-v', `0s${Buffer.from(value, 'latin1').toString('base64')}`, target]);
  }
}

export interface ApplyResult {
  readonly diffId: Digest;
  readonly size: number;
  readonly entries: number;
}

/**
 * Extracts `tar` (uncompressed) into `root`, which must be an empty overlay
 * upper directory. Resolves with the layer's diff id (sha256 of the tar).
 */
export async function applyLayer(tar: Readable, root: string, options: { signal?: AbortSignal; limits?: ApplyLimits } = {}): Promise<ApplyResult> {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const hash = createHash('sha256');
  let size = 0;
  const hasher = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  const ex = extract();
  const dirTimes: { target: string; mtime: Date }[] = [];
  let entries = 0;
  ex.on('entry', (header, entryStream, next) => {
    const stream = entryStream as unknown as Readable;
    applyEntry(header, stream)
      .then(() => next())
      .catch((err: unknown) => {
        stream.resume();
        next(err instanceof Error ? err : new Error(String(err)));
      });
  });

  const applyEntry = async (header: Headers, stream: Readable): Promise<void> => {
    entries++;
    if (entries > limits.maxEntries) throw hostile(header.name, `more than ${limits.maxEntries} entries`);
    if ((header.size ?? 0) > limits.maxEntrySize) throw hostile(header.name, `its size ${header.size ?? 0} exceeds the limit`);
    const rel = safeRelative(header.name);
    if (rel === '') return void stream.resume();
    await checkParents(root, rel, header.name);
    const base = path.posix.basename(rel);
    const dir = path.join(root, path.posix.dirname(rel));
    if (base === OPAQUE) {
      stream.resume();
      await mkdir(dir, { recursive: true });
      await runChecked(['setfattr', '-n', 'trusted.overlay.opaque', '-v', 'y', dir]);
      return;
    }
    if (base.startsWith(WHITEOUT_PREFIX)) {
      stream.resume();
      const hidden = base.slice(WHITEOUT_PREFIX.length);
      if (hidden === '' || hidden === '.' || hidden === '..') throw hostile(header.name, 'invalid whiteout');
      await mkdir(dir, { recursive: true });
      const target = path.join(dir, hidden);
      await rm(target, { recursive: true, force: true });
      await runChecked(['mknod', target, 'c', '0', '0']);
      return;
    }
    const target = path.join(root, rel);
    await mkdir(path.dirname(target), { recursive: true });
    const mode = header.mode ?? 0o644;
    const uid = header.uid ?? 0;
    const gid = header.gid ?? 0;
    switch (header.type) {
      case 'directory': {
        stream.resume();
        const st = await lstat(target).catch(() => undefined);
        if (st && !st.isDirectory()) await rm(target, { force: true });
        await mkdir(target, { recursive: true });
        await chmod(target, mode & 0o7777);
        await lchown(target, uid, gid);
        if (header.mtime) dirTimes.push({ target, mtime: header.mtime });
        break;
      }
      case 'file':
      case 'contiguous-file': {
        await removeExisting(target);
        await writeFileEntry(target, stream, mode, header.size ?? 0);
        await lchown(target, uid, gid);
        await chmod(target, mode & 0o7777);
        break;
      }
      case 'symlink': {
        stream.resume();
        await removeExisting(target);
        await symlink(header.linkname ?? '', target);
        await lchown(target, uid, gid);
        break;
      }
      case 'link': {
        stream.resume();
        const linkRel = safeRelative(header.linkname ?? '');
        if (linkRel === '') throw hostile(header.name, 'a hard link without a target');
        await checkParents(root, linkRel, header.name);
        const source = path.join(root, linkRel);
        const st = await lstat(source).catch(() => undefined);
        if (!st) throw hostile(header.name, `hard link to "${header.linkname ?? ''}", which is not in this layer`);
        if (st.isDirectory()) throw hostile(header.name, 'hard link to a directory');
        await removeExisting(target);
        await link(source, target);
        break;
      }
      case 'fifo': {
        stream.resume();
        await removeExisting(target);
        await runChecked(['mkfifo', '-m', (mode & 0o7777).toString(8), target]);
        await lchown(target, uid, gid);
        break;
      }
      case 'character-device':
      case 'block-device':
        stream.resume();
        throw hostile(header.name, 'device nodes are not allowed in layers');
      default:
        stream.resume();
        throw hostile(header.name, `unsupported entry type ${String(header.type)}`);
    }
    await setXattrs(target, header.pax as Record<string, string> | undefined);
    if (header.mtime && header.type !== 'directory') await lutimes(target, header.mtime, header.mtime).catch(() => undefined);
  };

  await pipeline(tar, hasher, ex, options.signal ? { signal: options.signal } : {});
  // Directory times last: creating entries inside changed them.
  for (const { target, mtime } of dirTimes.reverse()) await lutimes(target, mtime, mtime).catch(() => undefined);
  return { diffId: `sha256:${hash.digest('hex')}`, size, entries };
}
