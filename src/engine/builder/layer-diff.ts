/**
 * The changes of a build step as an OCI layer, written as a tar stream in
 * name order. Overlay: the upper directory of the step's snapshot; its
 * whiteouts (0/0 character devices) become `.wh.<name>` entries, opaque
 * directories (`trusted.overlay.opaque=y`) a `.wh..wh..opq` entry. Native
 * (plain copies): the step's tree compared with its parent's (type, mode,
 * owner, size, mtime, link target), what is gone a `.wh.<name>` entry.
 * Hard links within the layer stay links. The content store gets the plain
 * tar (its digest is the diff id, as Docker's local layers are uncompressed).
 */
import { createReadStream, type BigIntStats, type Stats } from 'node:fs';
import { lstat, readdir, readlink, rmdir, unlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack as tarPack, type Pack } from 'tar-stream';
import { MEDIA_TYPES } from '../../api/types/oci';
import type { LayerRecord } from '../../api/types/images';
import { run } from '../../common/process/spawn';
import type { ContentStore } from '../content/store';
import type { ApplyTarget } from '../snapshots/dir-snapshotter';

export interface DiffOptions {
  /** Paths (relative, no leading slash) to leave out when no lower layer has them: mount points the runtime made. */
  readonly runtimeArtifacts?: readonly string[];
  /**
   * Remove such mount points from the snapshot when they are placeholders (an
   * empty file or directory: what was mounted on them stays outside the tree),
   * so that the snapshot holds exactly the layer; others are left out.
   */
  readonly removeMountPoints?: boolean;
  /** Native snapshots: the parent's full tree (absent: the step starts from nothing). */
  readonly parentTree?: string;
  readonly signal?: AbortSignal;
}

/** What the walks report: whether anything of the tree was left out of the layer. */
interface WalkState {
  leftOut: boolean;
}

/**
 * Directories of `root` with `trusted.overlay.opaque=y`, and files with file
 * capabilities (`security.capability`), relative. Capabilities are not
 * written into built layers yet: a step with them is unpacked from its layer
 * (so the local image and a pushed one agree).
 */
async function markedPaths(root: string, signal?: AbortSignal): Promise<{ opaque: Set<string>; capabilities: Set<string> }> {
  const r = await run(['getfattr', '-R', '-P', '--absolute-names', '-d', '-m', '^(trusted\\.overlay\\.opaque|security\\.capability)$', root], signal ? { signal } : {});
  const opaque = new Set<string>();
  const capabilities = new Set<string>();
  let file = '';
  for (const line of r.stdout.toString('utf8').split('\n')) {
    if (line.startsWith('# file: ')) file = line.slice(8);
    else if (line.startsWith('trusted.overlay.opaque=') && line.includes('y')) opaque.add(path.relative(root, file));
    else if (line.startsWith('security.capability=')) capabilities.add(path.relative(root, file));
  }
  return { opaque, capabilities };
}

const isWhiteout = (st: Stats): boolean => st.isCharacterDevice() && st.rdev === 0;

/**
 * Removes `full` when it is a mount point's placeholder (an empty file or an
 * empty directory), keeping its directory's times; false when it is not one.
 */
async function removePlaceholder(full: string, st: Stats | BigIntStats): Promise<boolean> {
  const empty = st.isDirectory() ? (await readdir(full)).length === 0 : st.isFile() && Number(st.size) === 0;
  if (!empty) return false;
  const dir = path.dirname(full);
  const times = await lstat(dir);
  await (st.isDirectory() ? rmdir(full) : unlink(full));
  await utimes(dir, times.atime, times.mtime);
  return true;
}

async function inLowers(lowers: readonly string[], rel: string): Promise<boolean> {
  for (const lower of lowers) if (await lstat(path.join(lower, rel)).catch(() => undefined)) return true;
  return false;
}

type Headers = Parameters<Pack['entry']>[0];

function header(name: string, st: Stats, extra: Partial<Headers>): Headers {
  return { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime, size: 0, ...extra };
}

function entry(p: Pack, h: Headers, body?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => p.entry(h, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve())));
}

async function fileEntry(p: Pack, h: Headers, file: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const sink = p.entry(h, (err) => (err ? reject(err) : resolve()));
    pipeline(createReadStream(file), sink).catch(reject);
  });
}

/** Writes one entry that is not a whiteout (directories without their content). */
async function emit(p: Pack, rel: string, full: string, st: Stats, links: Map<string, string>, ws: WalkState): Promise<void> {
  if (st.isDirectory()) await entry(p, header(`${rel}/`, st, { type: 'directory' }));
  else if (st.isSymbolicLink()) await entry(p, header(rel, st, { type: 'symlink', linkname: await readlink(full) }));
  else if (st.isFile()) {
    const key = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1 ? links.get(key) : undefined;
    if (first !== undefined) await entry(p, header(rel, st, { type: 'link', linkname: first }));
    else {
      if (st.nlink > 1) links.set(key, rel);
      await fileEntry(p, header(rel, st, { type: 'file', size: st.size }), full);
    }
  } else if (st.isFIFO()) await entry(p, header(rel, st, { type: 'fifo' }));
  // Device nodes and sockets are left out: layers may not carry them.
  else ws.leftOut = true;
}

const FORMAT = 0o170000n;

const same = (a: BigIntStats, b: BigIntStats): boolean =>
  a.mode === b.mode && a.uid === b.uid && a.gid === b.gid && (a.isDirectory() || (a.size === b.size && a.mtimeNs === b.mtimeNs));

/** Native: the entries of `root` that differ from `parent`, and whiteouts for what `parent` has and `root` lacks. */
async function walkCompare(root: string, parent: string | undefined, p: Pack, options: DiffOptions, ws: WalkState): Promise<void> {
  const skip = new Set(options.runtimeArtifacts ?? []);
  const links = new Map<string, string>();
  const visit = async (rel: string, parentHas: boolean): Promise<void> => {
    options.signal?.throwIfAborted();
    const names = new Set(await readdir(path.join(root, rel)));
    const old = parentHas && parent ? new Set(await readdir(path.join(parent, rel)).catch(() => [] as string[])) : new Set<string>();
    for (const name of [...new Set([...names, ...old])].sort()) {
      const childRel = rel ? `${rel}/${name}` : name;
      const full = path.join(root, childRel);
      if (!names.has(name)) {
        await entry(p, { name: `${rel ? `${rel}/` : ''}.wh.${name}`, type: 'file', mode: 0o600, size: 0, mtime: new Date() });
        continue;
      }
      const st = await lstat(full, { bigint: true });
      const before = parent && old.has(name) ? await lstat(path.join(parent, childRel), { bigint: true }) : undefined;
      if (!before && skip.has(childRel)) {
        if (!options.removeMountPoints || !(await removePlaceholder(full, st))) ws.leftOut = true;
        continue;
      }
      const changed = !before || !same(st, before) || (st.isSymbolicLink() && (await readlink(full)) !== (await readlink(path.join(parent ?? '', childRel))));
      if (changed) await emit(p, childRel, full, await lstat(full), links, ws);
      if (st.isDirectory()) await visit(childRel, before !== undefined && (st.mode & FORMAT) === (before.mode & FORMAT));
    }
  };
  await visit('', parent !== undefined);
  p.finalize();
}

/** Writes the entries of the upper directory into `p` (and finalizes it). */
async function walkUpper(target: ApplyTarget, p: Pack, options: DiffOptions, ws: WalkState): Promise<void> {
  const root = target.dir;
  const { opaque, capabilities } = await markedPaths(root, options.signal);
  if (capabilities.size > 0) ws.leftOut = true;
  const skip = new Set(options.runtimeArtifacts ?? []);
  const links = new Map<string, string>();
  const visit = async (rel: string): Promise<void> => {
    options.signal?.throwIfAborted();
    for (const name of (await readdir(path.join(root, rel))).sort()) {
      const childRel = rel ? `${rel}/${name}` : name;
      const full = path.join(root, childRel);
      const st = await lstat(full);
      if (skip.has(childRel) && !(await inLowers(target.lowers, childRel))) {
        if (!options.removeMountPoints || !(await removePlaceholder(full, st))) ws.leftOut = true;
        continue;
      }
      if (isWhiteout(st)) {
        await entry(p, header(`${rel ? `${rel}/` : ''}.wh.${name}`, st, { type: 'file', mode: 0o600 }));
      } else if (st.isDirectory()) {
        await emit(p, childRel, full, st, links, ws);
        if (opaque.has(childRel)) await entry(p, header(`${childRel}/.wh..wh..opq`, st, { type: 'file', mode: 0o600 }));
        await visit(childRel);
      } else await emit(p, childRel, full, st, links, ws);
    }
  };
  await visit('');
  p.finalize();
}

/**
 * Stores the changes of `target` (an active snapshot) as a layer blob in
 * `content`; returns the layer record's parts (the chain id is the caller's).
 */
export interface StoredDiff {
  readonly layer: Omit<LayerRecord, 'chainId'>;
  /** The layer holds all of the snapshot's changes (nothing was left out): the snapshot can be committed as the layer. */
  readonly exact: boolean;
}

export async function storeDiff(content: ContentStore, target: ApplyTarget, options: DiffOptions = {}): Promise<StoredDiff> {
  const ws: WalkState = { leftOut: false };
  const p = tarPack();
  const out = new PassThrough();
  const walk = target.mode === 'overlay' ? walkUpper(target, p, options, ws) : walkCompare(target.dir, options.parentTree, p, options, ws);
  const writing = walk.catch((err: unknown) => {
    p.destroy(err as Error);
    throw err;
  });
  const [stored] = await Promise.all([
    content.putStream(out, options.signal ? { signal: options.signal } : {}),
    pipeline(p, out, options.signal ? { signal: options.signal } : {}),
    writing,
  ]);
  // An uncompressed layer: the blob's digest is its diff id.
  return { layer: { digest: stored.digest, mediaType: MEDIA_TYPES.ociLayer, size: stored.size, diffId: stored.digest }, exact: !ws.leftOut };
}
