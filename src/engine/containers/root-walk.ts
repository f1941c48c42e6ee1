/**
 * Directories and small files inside a container's filesystem, opened from
 * the host so that the container's own processes cannot steer the engine
 * out of it (the race Docker's archive API once had, CVE-2018-15664).
 * Each step opens one name relative to a directory descriptor already held
 * (through /proc/self/fd/N/NAME, with O_NOFOLLOW), so the kernel never
 * resolves a link: links are read here and followed inside the container,
 * ".." stops at its root. Nothing but directories and regular files is
 * opened for reading or writing: a device node the container made (its
 * device cgroup does not bind the engine) is only ever stat'ed, through
 * O_PATH. Files are written under a new name and renamed into place, so a
 * link or a FIFO at the destination is replaced, never followed.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fchmodSync, constants, fstatSync, mkdirSync, openSync, readdirSync, readlinkSync, readSync, renameSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { BerthError } from '../../common/errors';

/** O_PATH (Linux, the generic value that x86-64 and arm64 share): a descriptor that opens nothing. */
const O_PATH = 0o10000000;
const { O_DIRECTORY, O_NOFOLLOW, O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NONBLOCK } = constants;
const MAX_LINKS = 40;

const at = (fd: number, name: string): string => `/proc/self/fd/${fd}/${name}`;
const self = (fd: number): string => `/proc/self/fd/${fd}`;

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

export interface WalkOptions {
  /** Make missing directories on the way: mode for the last one, 0755 for those above it. */
  readonly create?: { readonly mode: number };
}

/**
 * The directory `containerPath` under `root` (a host path: /proc/PID/root
 * of a running container), as an O_PATH descriptor the caller closes.
 * not_found when a component is missing (and not to be made).
 */
export function openDirectory(root: string, containerPath: string, options: WalkOptions = {}): number {
  if (containerPath.includes('\0')) throw new BerthError('invalid_argument', 'the path contains a NUL byte');
  const stack = [openSync(root, O_PATH | O_DIRECTORY)];
  const queue = containerPath.split('/');
  let links = 0;
  try {
    while (queue.length > 0) {
      const name = queue.shift() ?? '';
      if (name === '' || name === '.') continue;
      if (name === '..') {
        if (stack.length > 1) closeSync(stack.pop() as number);
        continue;
      }
      const dir = stack[stack.length - 1] as number;
      let fd: number;
      try {
        fd = openSync(at(dir, name), O_PATH | O_DIRECTORY | O_NOFOLLOW);
      } catch (err) {
        const c = code(err);
        if (c === 'ENOENT' && options.create) {
          const last = !queue.some((p) => p !== '' && p !== '.');
          const mode = last ? options.create.mode : 0o755;
          try {
            mkdirSync(at(dir, name), mode);
            // The mode as asked, not as the engine's umask leaves it (a link swapped in is not followed: chmod of the O_PATH descriptor's magic link).
            const made = openSync(at(dir, name), O_PATH | O_DIRECTORY | O_NOFOLLOW);
            stack.push(made);
            chmodSync(self(made), mode);
            continue;
          } catch (e) {
            if (code(e) !== 'EEXIST') throw e;
            queue.unshift(name); // someone else made it: look again
            continue;
          }
        }
        if (c === 'ENOENT') throw new BerthError('not_found', `no such directory in the container: ${containerPath}`);
        if (c !== 'ENOTDIR' && c !== 'ELOOP') throw err;
        let target: string;
        try {
          target = readlinkSync(at(dir, name));
        } catch {
          throw new BerthError('invalid_argument', `not a directory in the container: ${containerPath}`);
        }
        if (++links > MAX_LINKS) throw new BerthError('invalid_argument', `too many levels of symbolic links in ${containerPath}`);
        if (target.startsWith('/')) while (stack.length > 1) closeSync(stack.pop() as number);
        queue.unshift(...target.split('/'));
        continue;
      }
      stack.push(fd);
    }
    return stack.pop() as number;
  } catch (err) {
    throw toFileError(err, containerPath);
  } finally {
    for (const fd of stack) closeSync(fd);
  }
}

function toFileError(err: unknown, where: string): unknown {
  if (BerthError.is(err)) return err;
  const c = code(err);
  if (c === 'EROFS') return new BerthError('failed_precondition', `the container's filesystem is read-only at ${where}`, { cause: err });
  if (c === 'ENOSPC' || c === 'EDQUOT') return new BerthError('resource_exhausted', `no space left in the container for ${where}`, { cause: err });
  return err;
}

export type EntryKind = 'file' | 'directory' | 'symlink' | 'other';

export interface DirectoryEntry {
  readonly name: string;
  readonly kind: EntryKind;
  readonly size: number;
  readonly mode: number;
  /** A regular file's content, up to maxFileBytes. */
  readonly content?: Buffer;
}

function kindOf(st: Stats): EntryKind {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}

function readWhole(fd: number, size: number): Buffer {
  const buf = Buffer.alloc(size);
  let off = 0;
  while (off < size) {
    const n = readSync(fd, buf, off, size - off, off);
    if (n === 0) break;
    off += n;
  }
  return buf.subarray(0, off);
}

/** One name in an open directory: its stat (never opening it) and, for a small regular file, its content. */
function entryAt(dir: number, name: string, maxFileBytes: number): DirectoryEntry | undefined {
  let pfd: number;
  try {
    pfd = openSync(at(dir, name), O_PATH | O_NOFOLLOW);
  } catch (err) {
    if (code(err) === 'ENOENT') return undefined; // gone since it was listed
    throw err;
  }
  try {
    const st = fstatSync(pfd);
    const entry = { name, kind: kindOf(st), size: st.size, mode: st.mode & 0o7777 };
    if (entry.kind !== 'file' || st.size > maxFileBytes) return entry;
    // Opened again through the descriptor: the very file just stat'ed, whatever the name holds now.
    const fd = openSync(self(pfd), O_RDONLY | O_NONBLOCK);
    try {
      return { ...entry, content: readWhole(fd, Math.min(fstatSync(fd).size, maxFileBytes)) };
    } finally {
      closeSync(fd);
    }
  } finally {
    closeSync(pfd);
  }
}

/**
 * A directory's entries (sorted by name), or a single file as one entry,
 * with the content of regular files up to maxFileBytes each. A link named
 * by the path is followed inside the container.
 */
export function readEntries(root: string, containerPath: string, maxFileBytes: number): DirectoryEntry[] {
  let current = containerPath;
  for (let links = 0; ; links++) {
    if (links > MAX_LINKS) throw new BerthError('invalid_argument', `too many levels of symbolic links in ${containerPath}`);
    const { dir, base } = split(current);
    if (base === '') return readDirectory(root, current, maxFileBytes);
    const parent = openDirectory(root, dir);
    try {
      const entry = entryAt(parent, base, maxFileBytes);
      if (!entry) throw new BerthError('not_found', `no such file or directory in the container: ${containerPath}`);
      if (entry.kind === 'directory') return readDirectory(root, current, maxFileBytes);
      if (entry.kind !== 'symlink') return [entry];
      const target = readlinkSync(at(parent, base));
      current = target.startsWith('/') ? target : `${dir}/${target}`;
    } catch (err) {
      throw toFileError(err, containerPath);
    } finally {
      closeSync(parent);
    }
  }
}

function readDirectory(root: string, containerPath: string, maxFileBytes: number): DirectoryEntry[] {
  const target = openDirectory(root, containerPath);
  try {
    const names = readdirSync(self(target)).sort();
    return names.map((n) => entryAt(target, n, maxFileBytes)).filter((e): e is DirectoryEntry => e !== undefined);
  } catch (err) {
    throw toFileError(err, containerPath);
  } finally {
    closeSync(target);
  }
}

function split(containerPath: string): { dir: string; base: string } {
  const clean = containerPath.replace(/\/+$/, '');
  const slash = clean.lastIndexOf('/');
  const base = clean.slice(slash + 1);
  if (base === '.' || base === '..') return { dir: clean, base: '' };
  return { dir: slash <= 0 ? '/' : clean.slice(0, slash), base };
}

/** Makes the directory (and those above it, 0755) if missing; sets its mode when given. Owner: the engine's (root). */
export function makeDirectory(root: string, containerPath: string, mode?: number): void {
  const fd = openDirectory(root, containerPath, { create: { mode: mode ?? 0o755 } });
  try {
    if (mode !== undefined) chmodSync(self(fd), mode);
  } catch (err) {
    throw toFileError(err, containerPath);
  } finally {
    closeSync(fd);
  }
}

/** Writes a regular file (its directory must exist): a new file renamed over whatever the name held. */
export function writeFile(root: string, containerPath: string, content: Buffer, mode: number): void {
  const { dir, base } = split(containerPath);
  if (base === '') throw new BerthError('invalid_argument', `not a file name: ${containerPath}`);
  const parent = openDirectory(root, dir);
  const tmp = `.berth-${randomBytes(6).toString('hex')}`;
  try {
    const fd = openSync(at(parent, tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    try {
      let off = 0;
      while (off < content.length) off += writeSync(fd, content, off, content.length - off);
      fchmodSync(fd, mode);
    } finally {
      closeSync(fd);
    }
    renameSync(at(parent, tmp), at(parent, base));
  } catch (err) {
    try {
      unlinkSync(at(parent, tmp));
    } catch {
      // not made, or renamed already
    }
    if (code(err) === 'EISDIR') throw new BerthError('conflict', `a directory is in the way: ${containerPath}`);
    throw toFileError(err, containerPath);
  } finally {
    closeSync(parent);
  }
}
