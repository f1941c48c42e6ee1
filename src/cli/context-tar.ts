/**
 * The build context as a tar stream, as the docker CLI sends it: the
 * directory's files minus what .dockerignore leaves out (the Dockerfile and
 * .dockerignore are always sent); a Dockerfile outside the context is added
 * under its own name.
 */
import { createReadStream, lstatSync, readdirSync, type Stats } from 'node:fs';
import { lstat, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import dockerignore from '@balena/dockerignore';
import { pack as tarPack, type Pack } from 'tar-stream';

export const OUTSIDE_DOCKERFILE = '.berth-dockerfile';
/** Files up to this size are read whole (a stream per small file costs more than the file). */
const SMALL = 1024 * 1024;
const BATCH = 64;

type Header = Parameters<Pack['entry']>[0];

function add(p: Pack, h: Header, body?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => p.entry(h, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve())));
}

export interface ContextEntry {
  readonly rel: string;
  readonly full: string;
  readonly st: Stats;
}

/** What a context sends: its entries (names and stats, in order) and a Dockerfile from outside it. */
export interface ScannedContext {
  readonly dir: string;
  readonly entries: readonly ContextEntry[];
  readonly extra?: { readonly name: string; readonly file: string; readonly st: Stats };
}

/** The entries of `dir` the context sends: all but what .dockerignore leaves out (`keep` always goes). */
export async function scanContext(dir: string, keep: readonly string[], extra?: { name: string; file: string }): Promise<ScannedContext> {
  const text = await readFile(path.join(dir, '.dockerignore'), 'utf8').catch(() => '');
  const ig = dockerignore().add(text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')));
  const entries: ContextEntry[] = [];
  // Synchronous on purpose: the CLI waits for the scan and does nothing else meanwhile, and a
  // thread-pool round trip per lstat cost 20 ms for 300 files where these calls cost 2.
  // Paths are put together by hand: path.join per file was most of the scan's time (CLI code runs cold).
  const base = path.resolve(dir);
  const prefix = base.endsWith('/') ? base : `${base}/`;
  const ignoring = text.trim() !== '';
  const walk = (rel: string): void => {
    const names = readdirSync(rel ? prefix + rel : base).sort();
    for (const name of names) {
      const childRel = rel ? `${rel}/${name}` : name;
      const full = prefix + childRel;
      const st = lstatSync(full);
      // An exception (!pattern) may still name something below an ignored directory.
      if (ignoring && ig.ignores(childRel) && !keep.includes(childRel) && (!st.isDirectory() || !text.includes('!'))) continue;
      entries.push({ rel: childRel, full, st });
      if (st.isDirectory()) walk(childRel);
    }
  };
  walk('');
  return { dir, entries, ...(extra ? { extra: { ...extra, st: await lstat(extra.file) } } : {}) };
}

/** The scanned context as a tar stream; contents are read a batch at a time. */
export function packScanned(scan: ScannedContext | Promise<ScannedContext>): Readable {
  const p = tarPack();
  const fill = async (): Promise<void> => {
    const { entries, extra } = await scan;
    for (let i = 0; i < entries.length; i += BATCH) {
      const batch = entries.slice(i, i + BATCH);
      const bodies = await Promise.all(batch.map(({ full, st }) => (st.isFile() && st.size <= SMALL ? readFile(full) : st.isSymbolicLink() ? readlink(full) : Promise.resolve(undefined))));
      for (const [j, { rel, full, st }] of batch.entries()) {
        const base = { name: rel, mode: st.mode & 0o7777, mtime: st.mtime, uid: st.uid, gid: st.gid };
        const body = bodies[j];
        if (st.isDirectory()) await add(p, { ...base, name: `${rel}/`, type: 'directory' });
        else if (st.isSymbolicLink()) await add(p, { ...base, type: 'symlink', linkname: String(body) });
        else if (Buffer.isBuffer(body)) await add(p, { ...base, type: 'file', size: body.length }, body);
        else if (st.isFile()) {
          await new Promise<void>((resolve, reject) => {
            const sink = p.entry({ ...base, type: 'file', size: st.size }, (err) => (err ? reject(err) : resolve()));
            pipeline(createReadStream(full), sink).catch(reject);
          });
        }
      }
    }
    if (extra) await add(p, { name: extra.name, mode: 0o644, type: 'file' }, await readFile(extra.file));
    p.finalize();
  };
  const out = new PassThrough();
  fill().catch((err: unknown) => p.destroy(err as Error));
  pipeline(p, out).catch((err: unknown) => out.destroy(err as Error));
  return out;
}

/** Packs `dir`; `extra` is a Dockerfile from outside it, added under its own name. */
export function packContext(dir: string, keep: readonly string[], extra?: { name: string; file: string }): Readable {
  return packScanned(scanContext(dir, keep, extra));
}
