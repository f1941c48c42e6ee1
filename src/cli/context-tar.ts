/**
 * The build context as a tar stream, as the docker CLI sends it: the
 * directory's files minus what .dockerignore leaves out (the Dockerfile and
 * .dockerignore are always sent); a Dockerfile outside the context is added
 * under its own name.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import dockerignore from '@balena/dockerignore';
import { pack as tarPack, type Pack } from 'tar-stream';

export const OUTSIDE_DOCKERFILE = '.berth-dockerfile';

type Header = Parameters<Pack['entry']>[0];

function add(p: Pack, h: Header, body?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => p.entry(h, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve())));
}

/** Packs `dir`; `dockerfile` is the Dockerfile's path in the context, or an outside file to add. */
export function packContext(dir: string, keep: readonly string[], extra?: { name: string; file: string }): Readable {
  const p = tarPack();
  const fill = async (): Promise<void> => {
    const text = await readFile(path.join(dir, '.dockerignore'), 'utf8').catch(() => '');
    const ig = dockerignore().add(text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')));
    const walk = async (rel: string): Promise<void> => {
      for (const name of (await readdir(path.join(dir, rel))).sort()) {
        const childRel = rel ? `${rel}/${name}` : name;
        const full = path.join(dir, childRel);
        const st = await lstat(full);
        if (ig.ignores(childRel) && !keep.includes(childRel)) {
          // An exception (!pattern) may still name something below an ignored directory.
          if (!st.isDirectory() || !text.includes('!')) continue;
        }
        const base = { name: childRel, mode: st.mode & 0o7777, mtime: st.mtime, uid: st.uid, gid: st.gid };
        if (st.isDirectory()) {
          await add(p, { ...base, name: `${childRel}/`, type: 'directory' });
          await walk(childRel);
        } else if (st.isSymbolicLink()) await add(p, { ...base, type: 'symlink', linkname: await readlink(full) });
        else if (st.isFile()) {
          await new Promise<void>((resolve, reject) => {
            const sink = p.entry({ ...base, type: 'file', size: st.size }, (err) => (err ? reject(err) : resolve()));
            pipeline(createReadStream(full), sink).catch(reject);
          });
        }
      }
    };
    await walk('');
    if (extra) await add(p, { name: extra.name, mode: 0o644, type: 'file' }, await readFile(extra.file));
    p.finalize();
  };
  const out = new PassThrough();
  fill().catch((err: unknown) => p.destroy(err as Error));
  pipeline(p, out).catch((err: unknown) => out.destroy(err as Error));
  return out;
}
