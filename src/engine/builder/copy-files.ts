/**
 * COPY and ADD into a mounted root: files keep their modes and times, get
 * the --chown owner (else root) and the --chmod mode; directories are copied
 * by their content; ADD extracts local tar archives. Destination paths are
 * resolved inside the root (symbolic links never lead out of it).
 */
import { chmod, copyFile, lchown, lstat, mkdir, readlink, readdir, rm, symlink, utimes, lutimes, open } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../../common/errors';
import { runChecked } from '../../common/process/spawn';
import { resolveInRoot } from '../volumes/scoped-path';
import type { Source, SourceRoot } from './context';
import { eachLimited } from '../../common/each-limited';

export interface CopyOptions {
  readonly owner?: { readonly uid: number; readonly gid: number };
  readonly mode?: number;
  /** ADD: local tar archives (not downloads) are extracted into the destination. */
  readonly extract?: boolean;
  readonly signal?: AbortSignal;
}

async function exists(p: string): Promise<boolean> {
  return (await lstat(p).catch(() => undefined)) !== undefined;
}

/** Creates the directory `inside` (and its parents) in `rootfs`; new ones get `owner`. */
export async function mkdirIn(rootfs: string, inside: string, owner?: CopyOptions['owner']): Promise<string> {
  let current = '/';
  for (const part of inside.split('/').filter(Boolean)) {
    current = path.posix.join(current, part);
    const host = await resolveInRoot(rootfs, current);
    const st = await lstat(host).catch(() => undefined);
    if (!st) {
      await mkdir(host, { mode: 0o755 });
      await chmod(host, 0o755);
      if (owner) await lchown(host, owner.uid, owner.gid);
    } else if (!st.isDirectory()) throw new BerthError('invalid_argument', `${current} is not a directory`);
  }
  return resolveInRoot(rootfs, inside);
}

const TAR_MAGIC: readonly Buffer[] = [Buffer.from([0x1f, 0x8b]), Buffer.from('BZh'), Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a]), Buffer.from([0x28, 0xb5, 0x2f, 0xfd])];

async function isArchive(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, 512, 0);
    if (TAR_MAGIC.some((m) => buf.subarray(0, m.length).equals(m))) return true;
    return bytesRead >= 262 && buf.subarray(257, 262).toString('latin1') === 'ustar';
  } finally {
    await fh.close();
  }
}

/** Entries of one directory copied at once (their file operations queue in the thread pool, four at a time). */
const PARALLEL = 8;

class Copier {
  constructor(
    private readonly root: SourceRoot,
    private readonly options: CopyOptions,
  ) {}

  private async attrs(target: string, mode: number, times: { atime: Date; mtime: Date }, link: boolean): Promise<void> {
    const owner = this.options.owner ?? { uid: 0, gid: 0 };
    await lchown(target, owner.uid, owner.gid);
    if (link) return void (await lutimes(target, times.atime, times.mtime));
    await chmod(target, this.options.mode ?? mode & 0o7777);
    await utimes(target, times.atime, times.mtime);
  }

  /** Copies the entries of the source directory `abs` (`rel` in the root) into the host directory `dir`. */
  async children(rel: string, abs: string, dir: string): Promise<void> {
    const names = (await readdir(abs)).filter((name) => !this.root.ignored(rel ? `${rel}/${name}` : name));
    await eachLimited(names, PARALLEL, (name) => this.entry(rel ? `${rel}/${name}` : name, path.join(abs, name), path.join(dir, name)));
  }

  /** Copies one entry `rel` of the source root to the host path `target`. */
  async entry(rel: string, abs: string, target: string): Promise<void> {
    this.options.signal?.throwIfAborted();
    const st = await lstat(abs);
    const there = await lstat(target).catch(() => undefined);
    if (st.isDirectory()) {
      if (there && !there.isDirectory()) await rm(target, { force: true });
      if (!there?.isDirectory()) await mkdir(target);
      await this.children(rel, abs, target);
      return this.attrs(target, st.mode, st, false);
    }
    if (there?.isDirectory()) throw new BerthError('invalid_argument', `cannot replace directory ${target} with a file`);
    if (there) await rm(target, { force: true });
    if (st.isSymbolicLink()) {
      await symlink(await readlink(abs), target);
      return this.attrs(target, st.mode, st, true);
    }
    if (!st.isFile()) return; // devices, sockets and pipes of the context are left out
    await copyFile(abs, target);
    await this.attrs(target, st.mode, st, false);
  }
}

const endsAsDir = (dest: string): boolean => dest.endsWith('/') || dest.endsWith('/.');

/** Several sources need a destination written as a directory, with a trailing "/" (Docker's rule). */
export function checkSeveralSources(count: number, dest: string): void {
  if (count > 1 && !endsAsDir(dest)) throw new BerthError('invalid_argument', 'when copying several sources, the destination must be a directory and end with a /');
}

/**
 * Copies `sources` to `dest` (an absolute path in the container) in `rootfs`.
 * A destination ending in "/" (or an existing directory) receives the
 * sources by name; a directory source gives its content.
 */
export async function copySources(rootfs: string, root: SourceRoot, sources: readonly Source[], dest: string, options: CopyOptions): Promise<void> {
  const copier = new Copier(root, options);
  const wantsDir = endsAsDir(dest);
  checkSeveralSources(sources.length, dest);
  for (const s of sources) {
    const destHost = await resolveInRoot(rootfs, dest);
    const destIsDir = wantsDir || (await lstat(destHost).catch(() => undefined))?.isDirectory() === true;
    if (s.stat.isDirectory()) {
      await copier.children(s.rel, s.abs, await mkdirIn(rootfs, dest, options.owner));
      continue;
    }
    if (options.extract && !s.remote && s.stat.isFile() && (await isArchive(s.abs))) {
      const dir = await mkdirIn(rootfs, dest, options.owner);
      await runChecked(['tar', '-x', '--same-owner', '-p', '-f', s.abs, '-C', dir], options.signal ? { signal: options.signal } : {});
      continue;
    }
    const parent = destIsDir ? dest : path.posix.dirname(dest);
    const dir = await mkdirIn(rootfs, parent, options.owner);
    const target = destIsDir ? path.join(dir, path.posix.basename(s.rel || s.abs)) : path.join(dir, path.posix.basename(dest));
    if (!(await exists(path.dirname(target)))) throw new BerthError('internal', `no directory for ${target}`);
    await copier.entry(s.rel, s.abs, target);
  }
}
