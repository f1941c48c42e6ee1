/**
 * `docker cp`: a path of a container's filesystem as a tar stream, its
 * stat, and a tar stream extracted into a directory of it. Paths resolve
 * inside the container (scoped-path); extraction refuses entries that would
 * leave the destination (the layer writer's checks) or go through links.
 */
import type { Stats } from 'node:fs';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, pack as tarPack, type Header, type Pack } from 'tar-stream';
import { BerthError, toBerthError } from '../../common/errors';
import { DEFAULT_LIMITS, LayerWriter } from '../snapshots/layer-writer';
import { resolveInScope, type HostPathOf } from './scoped-path';

export interface PathStat {
  readonly name: string;
  readonly size: number;
  /** Go's os.FileMode bits, as Docker clients read them. */
  readonly mode: number;
  readonly mtime: string;
  /** For a symbolic link: its target resolved inside the container. */
  readonly linkTarget: string;
}

const GO_MODE = { dir: 2 ** 31, symlink: 2 ** 27, device: 2 ** 26, pipe: 2 ** 25, socket: 2 ** 24, setuid: 2 ** 23, setgid: 2 ** 22, charDevice: 2 ** 21, sticky: 2 ** 20 };

export function goFileMode(st: Stats): number {
  let mode = st.mode & 0o777;
  if (st.isDirectory()) mode += GO_MODE.dir;
  if (st.isSymbolicLink()) mode += GO_MODE.symlink;
  if (st.isBlockDevice()) mode += GO_MODE.device;
  if (st.isCharacterDevice()) mode += GO_MODE.device + GO_MODE.charDevice;
  if (st.isFIFO()) mode += GO_MODE.pipe;
  if (st.isSocket()) mode += GO_MODE.socket;
  if (st.mode & 0o4000) mode += GO_MODE.setuid;
  if (st.mode & 0o2000) mode += GO_MODE.setgid;
  if (st.mode & 0o1000) mode += GO_MODE.sticky;
  return mode;
}

function notFound(requested: string, cause?: unknown): BerthError {
  return new BerthError('not_found', `Could not find the file ${requested} in container`, cause === undefined ? {} : { cause });
}

/** Resolves the path (its last link kept) and stats it. */
export async function statInContainer(hostPathOf: HostPathOf, requested: string): Promise<{ stat: PathStat; containerPath: string }> {
  const containerPath = await resolveInScope(hostPathOf, requested, false);
  const st = await lstat(hostPathOf(containerPath)).catch((err: unknown) => {
    throw notFound(requested, err);
  });
  const linkTarget = st.isSymbolicLink() ? await resolveInScope(hostPathOf, containerPath, true) : '';
  // "/dir/." names the directory's content: its base stays ".".
  const name = /\/\.$/.test(requested) ? '.' : path.posix.basename(containerPath) || '/';
  return { stat: { name, size: st.size, mode: goFileMode(st), mtime: st.mtime.toISOString(), linkTarget }, containerPath };
}

type EntryType = 'file' | 'directory' | 'symlink' | 'fifo';

function entryType(st: Stats): EntryType | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  return undefined; // sockets and devices are left out, as `docker cp` does
}

/** Adds `host` and, for a directory, what is under it (links are stored, never followed). */
async function packTree(pack: Pack, host: string, name: string, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  const st = await lstat(host);
  const type = entryType(st);
  if (!type) return;
  const header = { name: type === 'directory' ? `${name}/` : name, type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
  if (type === 'file') {
    await new Promise<void>((resolve, reject) => {
      const entry = pack.entry({ ...header, size: st.size }, (err) => (err ? reject(err) : resolve()));
      createReadStream(host).on('error', reject).pipe(entry);
    });
    return;
  }
  const linkname = type === 'symlink' ? await readlink(host) : undefined;
  await new Promise<void>((resolve, reject) => pack.entry({ ...header, ...(linkname === undefined ? {} : { linkname }) }, (err) => (err ? reject(err) : resolve())));
  if (type === 'directory') for (const child of (await readdir(host)).sort()) await packTree(pack, path.join(host, child), `${name}/${child}`, signal);
}

/** The path as a tar stream: a file or link as one entry, a directory with its content, under the requested base name. */
export async function archiveFromContainer(hostPathOf: HostPathOf, requested: string, options: { signal?: AbortSignal } = {}): Promise<{ stat: PathStat; tar: Readable }> {
  const { stat: st, containerPath } = await statInContainer(hostPathOf, requested);
  const host = hostPathOf(containerPath);
  const pack = tarPack();
  const done = async (): Promise<void> => {
    if (st.name === '.') for (const child of (await readdir(host)).sort()) await packTree(pack, path.join(host, child), `./${child}`, options.signal);
    else await packTree(pack, host, st.name, options.signal);
    pack.finalize();
  };
  done().catch((err: unknown) => pack.destroy(err as Error));
  return { stat: st, tar: pack as unknown as Readable };
}

function hostile(name: string, why: string): BerthError {
  return new BerthError('invalid_argument', `refusing archive entry "${name}": ${why}`);
}

/**
 * Extracts a tar stream into the directory `requested` (links followed
 * inside the container). Owners come from the archive with `copyOwners`,
 * else root's, as Docker does.
 */
export async function extractToContainer(hostPathOf: HostPathOf, requested: string, tar: Readable, options: { copyOwners?: boolean; signal?: AbortSignal } = {}): Promise<void> {
  const containerPath = await resolveInScope(hostPathOf, requested, true);
  const dest = hostPathOf(containerPath);
  const st = await stat(dest).catch((err: unknown) => {
    throw notFound(requested, err);
  });
  if (!st.isDirectory()) throw new BerthError('invalid_argument', `extraction point is not a directory: ${requested}`);
  // The destination must be a real directory, not a link swapped in since it was resolved.
  if ((await lstat(dest)).isSymbolicLink()) throw new BerthError('conflict', `${requested} changed while it was resolved`);
  const writer = new LayerWriter(dest, 'native', [], DEFAULT_LIMITS);
  const ex = extract();
  const none = new Map<string, Buffer>();
  ex.on('entry', (header: Header, entryStream, next) => {
    const stream = entryStream as unknown as Readable;
    stream.on('error', () => undefined);
    const base = path.posix.basename(header.name.replace(/\/+$/, ''));
    const run = async (): Promise<void> => {
      // Whiteouts mean something to a layer writer, nothing to a copy.
      if (base.startsWith('.wh.')) throw hostile(header.name, 'names starting with ".wh." are reserved');
      if (header.type === 'character-device' || header.type === 'block-device') throw hostile(header.name, 'device nodes cannot be copied in');
      const owned = options.copyOwners ? header : { ...header, uid: 0, gid: 0 };
      await writer.apply(owned, stream, none);
    };
    run().then(
      () => {
        stream.resume();
        next();
      },
      (err: unknown) => {
        stream.resume();
        next(err as Error);
      },
    );
  });
  try {
    await pipeline(tar, ex, options.signal ? { signal: options.signal } : {});
  } catch (err) {
    if (BerthError.is(err)) throw err;
    const e = toBerthError(err);
    throw e.code === 'internal' ? new BerthError('invalid_argument', `cannot extract the archive: ${e.message}`, { cause: err }) : e;
  }
  await writer.finish();
}
