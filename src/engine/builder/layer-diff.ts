/**
 * The changes of a build step as an OCI layer: the overlay upper directory
 * of the step's snapshot, walked in name order, written as a tar stream.
 * Overlay whiteouts (0/0 character devices) become `.wh.<name>` entries,
 * opaque directories (`trusted.overlay.opaque=y`) a `.wh..wh..opq` entry;
 * hard links within the layer stay links. The content store gets the plain
 * tar (its digest is the diff id, as Docker's local layers are uncompressed).
 */
import { createReadStream, type Stats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack as tarPack, type Pack } from 'tar-stream';
import { MEDIA_TYPES } from '../../api/types/oci';
import type { LayerRecord } from '../../api/types/images';
import { notYet } from '../../common/errors';
import { run } from '../../common/process/spawn';
import type { ContentStore } from '../content/store';
import type { ApplyTarget } from '../snapshots/dir-snapshotter';

export interface DiffOptions {
  /** Paths (relative, no leading slash) to leave out when no lower layer has them: mount points the runtime made. */
  readonly runtimeArtifacts?: readonly string[];
  readonly signal?: AbortSignal;
}

/** Directories of `root` with `trusted.overlay.opaque=y`, relative. */
async function opaqueDirs(root: string, signal?: AbortSignal): Promise<Set<string>> {
  const r = await run(['getfattr', '-R', '-P', '--absolute-names', '-d', '-m', '^trusted\\.overlay\\.opaque$', root], signal ? { signal } : {});
  const out = new Set<string>();
  let file = '';
  for (const line of r.stdout.toString('utf8').split('\n')) {
    if (line.startsWith('# file: ')) file = line.slice(8);
    else if (line.startsWith('trusted.overlay.opaque=') && line.includes('y')) out.add(path.relative(root, file));
  }
  return out;
}

const isWhiteout = (st: Stats): boolean => st.isCharacterDevice() && st.rdev === 0;

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

/** Writes the entries of the upper directory into `p` (and finalizes it). */
async function walkUpper(target: ApplyTarget, p: Pack, options: DiffOptions): Promise<void> {
  const root = target.dir;
  const opaque = await opaqueDirs(root, options.signal);
  const skip = new Set(options.runtimeArtifacts ?? []);
  const links = new Map<string, string>();
  const visit = async (rel: string): Promise<void> => {
    options.signal?.throwIfAborted();
    for (const name of (await readdir(path.join(root, rel))).sort()) {
      const childRel = rel ? `${rel}/${name}` : name;
      const full = path.join(root, childRel);
      const st = await lstat(full);
      if (skip.has(childRel) && !(await inLowers(target.lowers, childRel))) continue;
      if (isWhiteout(st)) {
        await entry(p, header(`${rel ? `${rel}/` : ''}.wh.${name}`, st, { type: 'file', mode: 0o600 }));
      } else if (st.isDirectory()) {
        await entry(p, header(`${childRel}/`, st, { type: 'directory' }));
        if (opaque.has(childRel)) await entry(p, header(`${childRel}/.wh..wh..opq`, st, { type: 'file', mode: 0o600 }));
        await visit(childRel);
      } else if (st.isSymbolicLink()) {
        await entry(p, header(childRel, st, { type: 'symlink', linkname: await readlink(full) }));
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? links.get(key) : undefined;
        if (first !== undefined) await entry(p, header(childRel, st, { type: 'link', linkname: first }));
        else {
          if (st.nlink > 1) links.set(key, childRel);
          await fileEntry(p, header(childRel, st, { type: 'file', size: st.size }), full);
        }
      } else if (st.isFIFO()) {
        await entry(p, header(childRel, st, { type: 'fifo' }));
      }
      // Device nodes and sockets are left out: layers may not carry them.
    }
  };
  await visit('');
  p.finalize();
}

/**
 * Stores the changes of `target` (an active snapshot) as a layer blob in
 * `content`; returns the layer record's parts (the chain id is the caller's).
 */
export async function storeDiff(content: ContentStore, target: ApplyTarget, options: DiffOptions = {}): Promise<Omit<LayerRecord, 'chainId'>> {
  if (target.mode !== 'overlay') throw notYet('building with the native (plain copy) snapshotter', 6);
  const p = tarPack();
  const out = new PassThrough();
  const writing = walkUpper(target, p, options).catch((err: unknown) => {
    p.destroy(err as Error);
    throw err;
  });
  const [stored] = await Promise.all([
    content.putStream(out, options.signal ? { signal: options.signal } : {}),
    pipeline(p, out, options.signal ? { signal: options.signal } : {}),
    writing,
  ]);
  // An uncompressed layer: the blob's digest is its diff id.
  return { digest: stored.digest, mediaType: MEDIA_TYPES.ociLayer, size: stored.size, diffId: stored.digest };
}
