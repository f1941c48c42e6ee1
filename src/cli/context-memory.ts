/**
 * What `berth build` remembers of the contexts it sent, so that a rebuild
 * of an unchanged context sends none: a fingerprint of the scanned context
 * -> the sha256 of the tar that was sent. The fingerprint covers every
 * entry's name, type, mode, size, owner, device, inode, mtime and ctime
 * (sub-microsecond), and the outside Dockerfile's; any write to a file
 * changes its ctime, which nothing can set back. Like git's index, an entry
 * changed in the last seconds before the record could still change within
 * the same timestamp tick, so such a context is not recorded. The engine
 * may have dropped the context since: it says so and the tar is sent.
 */
import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ScannedContext } from './context-tar';

const KEEP = 64;
/** Entries changed this recently (ms) are not trusted to show their next change. */
const SETTLE_MS = 3000;

function statText(st: Stats): string {
  const type = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : st.isFile() ? 'f' : 'o';
  return [type, st.mode, st.size, st.uid, st.gid, st.dev, st.ino, st.mtimeMs, st.ctimeMs].join(' ');
}

export function fingerprint(scan: ScannedContext, keys: readonly string[]): string {
  const h = createHash('sha256').update(JSON.stringify([path.resolve(scan.dir), keys]));
  for (const e of scan.entries) h.update(`${e.rel}\0${statText(e.st)}\n`);
  if (scan.extra) h.update(`extra ${scan.extra.name} ${path.resolve(scan.extra.file)} ${statText(scan.extra.st)}\n`);
  return h.digest('hex');
}

/** True when nothing in the context changed in the last few seconds (its fingerprint then shows any later change). */
export function settled(scan: ScannedContext, now = Date.now()): boolean {
  const stats = [...scan.entries.map((e) => e.st), ...(scan.extra ? [scan.extra.st] : [])];
  return stats.every((st) => now - Math.max(st.mtimeMs, st.ctimeMs) > SETTLE_MS);
}

type Records = Record<string, { digest: string; at: number }>;

export class ContextMemory {
  constructor(private readonly file: string) {}

  static at(env: NodeJS.ProcessEnv): ContextMemory {
    const base = env['XDG_CACHE_HOME'] || path.join(env['HOME'] || os.homedir(), '.cache');
    return new ContextMemory(path.join(base, 'berth', 'build-contexts.json'));
  }

  private async read(): Promise<Records> {
    try {
      const v = JSON.parse(await readFile(this.file, 'utf8')) as unknown;
      return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Records) : {};
    } catch {
      return {};
    }
  }

  /** The digest (hex) of the tar sent for this fingerprint, if one was recorded. */
  async lookup(print: string): Promise<string | undefined> {
    const digest = (await this.read())[print]?.digest;
    return typeof digest === 'string' && /^[0-9a-f]{64}$/.test(digest) ? digest : undefined;
  }

  /** Records (or forgets, with `undefined`) the tar sent for a fingerprint; keeps the latest few. Never fails the build. */
  async record(print: string, digest: string | undefined): Promise<void> {
    try {
      const records = await this.read();
      if (digest === undefined) delete records[print];
      else records[print] = { digest, at: Date.now() };
      const kept = Object.fromEntries(
        Object.entries(records)
          .sort((a, b) => b[1].at - a[1].at)
          .slice(0, KEEP),
      );
      await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
      const tmp = `${this.file}.tmp-${process.pid}`;
      await writeFile(tmp, JSON.stringify(kept), { mode: 0o600 });
      await rename(tmp, this.file);
    } catch {
      // A cache that cannot be written only costs the next build an upload.
    }
  }
}
