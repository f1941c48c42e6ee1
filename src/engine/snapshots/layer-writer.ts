/**
 * Writes the entries of one layer into a directory, in overlay mode (the
 * directory is an overlay upper: OCI whiteouts become 0/0 character devices,
 * opaque markers the `trusted.overlay.opaque` xattr) or native mode (the
 * directory is the full tree: whiteouts delete, opaque directories are
 * emptied of what lower layers put there). Every path is checked with
 * safe-path before anything is written.
 */
import { constants, type Stats } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, open, readdir, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Header } from 'tar-stream';
import { BerthError } from '../../common/errors';
import { runChecked } from '../../common/process/spawn';
import { checkParents, type DirAttrs, hostile, isWhiteout, lstatOrUndefined, makeParents, safeRelative } from './safe-path';
import type { RawXattrs } from './tar-xattrs';

export type ApplyMode = 'overlay' | 'native';

export interface ApplyLimits {
  /** Largest single file, in bytes. */
  readonly maxEntrySize: number;
  /** Largest sum of file sizes, in bytes. */
  readonly maxTotalSize: number;
  readonly maxEntries: number;
}

export const DEFAULT_LIMITS: ApplyLimits = { maxEntrySize: 64 * 2 ** 30, maxTotalSize: 256 * 2 ** 30, maxEntries: 4_000_000 };

const WHITEOUT_PREFIX = '.wh.';
const WHITEOUT_META_PREFIX = '.wh..wh.';
const OPAQUE = '.wh..wh..opq';
const DEFAULT_DIR: DirAttrs = { mode: 0o755, uid: 0, gid: 0 };

export class LayerWriter {
  private readonly seen = new Set<string>();
  private readonly ancestors = new Set<string>();
  private readonly dirTimes = new Map<string, Date>();
  /** Directories of this root already checked to be real directories (not symlinks). */
  private readonly realDirs = new Set<string>();
  private total = 0;
  entries = 0;

  constructor(
    private readonly root: string,
    private readonly mode: ApplyMode,
    private readonly lowers: readonly string[],
    private readonly limits: ApplyLimits,
  ) {}

  async apply(header: Header, stream: Readable, xattrs: RawXattrs): Promise<void> {
    const name = header.name;
    if (++this.entries > this.limits.maxEntries) throw hostile(name, `the layer has more than ${this.limits.maxEntries} entries`);
    const size = header.size ?? 0;
    if (size > this.limits.maxEntrySize) throw hostile(name, `its size ${size} exceeds the limit of ${this.limits.maxEntrySize} bytes`);
    this.total += header.type === 'file' || header.type === 'contiguous-file' ? size : 0;
    if (this.total > this.limits.maxTotalSize) throw hostile(name, `the layer exceeds the limit of ${this.limits.maxTotalSize} bytes`);
    const rel = safeRelative(name);
    if (rel.split('/').some((p) => p.startsWith(WHITEOUT_META_PREFIX) && p !== OPAQUE)) return; // aufs metadata, as Docker skips it
    const base = path.posix.basename(rel);
    if (rel === '') {
      if (header.type !== 'directory') throw hostile(name, 'the layer root must be a directory');
      await this.setAttrs(this.root, header, xattrs);
      if (header.mtime) this.dirTimes.set('', header.mtime);
      return;
    }
    await this.ensureParent(rel, name);
    if (base === OPAQUE) return this.opaque(dirOf(rel));
    if (base.startsWith(WHITEOUT_PREFIX)) return this.whiteout(rel, name);
    await this.write(rel, header, stream, xattrs);
    this.seen.add(rel);
    for (let d = dirOf(rel); d !== '' && !this.ancestors.has(d); d = dirOf(d)) this.ancestors.add(d);
  }

  /** Sets directory times last (writing into a directory changes its mtime). */
  async finish(): Promise<void> {
    for (const [rel, mtime] of this.dirTimes) await lutimes(path.join(this.root, rel), mtime, mtime);
  }

  /** Drops `rel` and what is under it from the checked directories (it is being replaced or removed). */
  private forget(rel: string): void {
    this.realDirs.delete(rel);
    const prefix = `${rel}/`;
    for (const d of this.realDirs) if (d.startsWith(prefix)) this.realDirs.delete(d);
  }

  private async write(rel: string, header: Header, stream: Readable, xattrs: RawXattrs): Promise<void> {
    const target = path.join(this.root, rel);
    if (header.type !== 'directory') this.forget(rel);
    const existing = await lstatOrUndefined(target);
    switch (header.type) {
      case 'directory': {
        if (existing && !existing.isDirectory()) await rm(target, { force: true });
        if (!existing || !existing.isDirectory()) await mkdir(target, { mode: 0o700 });
        await this.setAttrs(target, header, xattrs);
        // A directory replacing a whiteout must hide the lower one's content.
        if (existing && this.mode === 'overlay' && isWhiteout(existing)) await setOpaque(target);
        if (header.mtime) this.dirTimes.set(rel, header.mtime);
        return;
      }
      case 'file':
      case 'contiguous-file':
        if (existing) await rm(target, { recursive: true, force: true });
        await writeFile(target, stream, header.size ?? 0, header.name);
        break;
      case 'symlink':
        if (existing) await rm(target, { recursive: true, force: true });
        if (!header.linkname) throw hostile(header.name, 'a symbolic link without a target');
        if (header.linkname.includes('\0')) throw hostile(header.name, 'the link target contains a NUL byte');
        await symlink(header.linkname, target);
        break;
      case 'link':
        return this.hardlink(rel, target, header);
      case 'fifo':
        if (existing) await rm(target, { recursive: true, force: true });
        await runChecked(['mknod', target, 'p']);
        break;
      case 'character-device':
      case 'block-device':
        throw hostile(header.name, 'device nodes are not allowed in layers');
      default:
        throw hostile(header.name, `unsupported entry type ${String(header.type)}`);
    }
    await this.setAttrs(target, header, xattrs);
    if (header.mtime) await lutimes(target, header.mtime, header.mtime);
  }

  /** Owner, then mode (chown clears setuid bits), then xattrs (chown clears capabilities). */
  private async setAttrs(target: string, header: Header, xattrs: RawXattrs): Promise<void> {
    await lchown(target, header.uid ?? 0, header.gid ?? 0);
    if (header.type !== 'symlink') await chmod(target, (header.mode ?? 0o644) & 0o7777);
    for (const [name, value] of xattrs) {
      if (name.startsWith('trusted.overlay.')) continue; // overlay metadata is ours to write, never the layer's
      await runChecked(['setfattr', '-h', '-n', name, '-v', `0s${value.toString('base64')}`, target]);
    }
  }

  private async hardlink(rel: string, target: string, header: Header): Promise<void> {
    const linkRel = safeRelative(header.linkname ?? '');
    if (linkRel === '' || linkRel === rel) throw hostile(header.name, `invalid hard link target "${header.linkname ?? ''}"`);
    const source = path.join(this.root, linkRel);
    const missingParent = await checkParents(this.root, linkRel, header.name);
    let st = missingParent === undefined ? await lstatOrUndefined(source) : undefined;
    if (!st && this.mode === 'overlay' && (await this.copyUp(linkRel, header.name))) st = await lstat(source);
    if (!st || isWhiteout(st)) throw hostile(header.name, `hard link to "${header.linkname ?? ''}", which is not in this layer or below`);
    if (st.isDirectory()) throw hostile(header.name, 'hard link to a directory');
    const existing = await lstatOrUndefined(target);
    if (existing) await rm(target, { recursive: true, force: true });
    await link(source, target);
  }

  /** Overlay: copies a lower layer's file into the upper so a hard link can point at it. */
  private async copyUp(rel: string, entry: string): Promise<boolean> {
    for (const lower of this.lowers) {
      const inLower = await lowerStat(lower, rel);
      if (inLower === 'whiteout') return false;
      if (!inLower) continue;
      if (inLower.isDirectory()) throw hostile(entry, 'hard link to a directory');
      await this.ensureParent(rel, entry);
      await runChecked(['cp', '-a', '--preserve=all', '--no-dereference', path.join(lower, rel), path.join(this.root, rel)]);
      return true;
    }
    return false;
  }

  private async ensureParent(rel: string, entry: string): Promise<void> {
    const parent = dirOf(rel);
    if (parent === '' || this.realDirs.has(parent)) return;
    const missing = await checkParents(this.root, rel, entry);
    for (let d = parent; d !== '' && !this.realDirs.has(d); d = dirOf(d)) this.realDirs.add(d);
    if (missing === undefined) return;
    await makeParents(
      this.root,
      rel,
      missing,
      (relDir) => this.lowerDirAttrs(relDir),
      async (relDir, attrs) => {
        const p = path.join(this.root, relDir);
        await lchown(p, attrs.uid, attrs.gid);
        await chmod(p, attrs.mode);
        if (attrs.mtime) this.dirTimes.set(relDir, attrs.mtime);
      },
    );
  }

  /** An implicit directory in an overlay upper takes the lower directory's attributes (as a copy-up would). */
  private async lowerDirAttrs(relDir: string): Promise<DirAttrs> {
    for (const lower of this.lowers) {
      const st = await lowerStat(lower, relDir);
      if (st === 'whiteout') break;
      if (st?.isDirectory()) return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
      if (st) break;
    }
    return DEFAULT_DIR;
  }

  private async opaque(relDir: string): Promise<void> {
    if (this.mode === 'overlay') return setOpaque(path.join(this.root, relDir));
    await this.clearLower(relDir);
  }

  /** Native opaque directory: removes what lower layers put there, keeps this layer's entries. */
  private async clearLower(relDir: string): Promise<void> {
    for (const name of await readdir(path.join(this.root, relDir))) {
      const rel = relDir ? `${relDir}/${name}` : name;
      if (!this.seen.has(rel) && !this.ancestors.has(rel)) {
        this.forget(rel);
        await rm(path.join(this.root, rel), { recursive: true, force: true });
      } else if ((await lstat(path.join(this.root, rel))).isDirectory()) {
        await this.clearLower(rel);
      }
    }
  }

  private async whiteout(rel: string, entry: string): Promise<void> {
    const hidden = path.posix.basename(rel).slice(WHITEOUT_PREFIX.length);
    if (hidden === '' || hidden === '.' || hidden === '..') throw hostile(entry, 'an invalid whiteout');
    const targetRel = path.posix.join(dirOf(rel), hidden);
    const target = path.join(this.root, targetRel);
    const st = await lstatOrUndefined(target);
    if (this.mode === 'native') {
      // Whiteouts hide lower layers only, never entries of their own layer.
      if (st && !this.seen.has(targetRel)) {
        this.forget(targetRel);
        await rm(target, { recursive: true, force: true });
      }
      return;
    }
    this.forget(targetRel);
    if (!st) await runChecked(['mknod', target, 'c', '0', '0']);
    else if (st.isDirectory()) await setOpaque(target);
  }
}

function dirOf(rel: string): string {
  const d = path.posix.dirname(rel);
  return d === '.' ? '' : d;
}

async function setOpaque(dir: string): Promise<void> {
  await runChecked(['setfattr', '-n', 'trusted.overlay.opaque', '-v', 'y', dir]);
}

/**
 * A path in a committed lower layer: its stat, undefined when absent, or
 * 'whiteout' when this layer hides it (a whiteout, or a non-directory or
 * symbolic link on the way): the search stops there.
 */
async function lowerStat(lower: string, rel: string): Promise<Stats | 'whiteout' | undefined> {
  try {
    if ((await checkParents(lower, rel, rel)) !== undefined) return undefined;
  } catch {
    return 'whiteout';
  }
  const st = await lstatOrUndefined(path.join(lower, rel));
  return st && isWhiteout(st) ? 'whiteout' : st;
}

async function writeFile(target: string, stream: Readable, size: number, entry: string): Promise<void> {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const fh = await open(target, flags, 0o600);
  try {
    let written = 0;
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      let off = 0;
      while (off < buf.length) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
      written += buf.length;
    }
    if (written !== size) throw new BerthError('invalid_argument', `layer entry "${entry}" is truncated`, { details: { entry } });
  } finally {
    await fh.close();
  }
}
