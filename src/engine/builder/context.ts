/**
 * Where COPY and ADD read from: the build context (a directory, filtered by
 * its .dockerignore) or another stage's or image's root. Sources are matched
 * like Docker's (`*`, `?` and `[...]` within one path segment), always inside
 * the root, and hashed by content for the cache.
 */
import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import dockerignore from '@balena/dockerignore';
import { BerthError } from '../../common/errors';

export interface SourceRoot {
  readonly dir: string;
  /** True for a relative path the context leaves out (.dockerignore). */
  readonly ignored: (rel: string) => boolean;
}

export interface Source {
  /** Relative to the root, "" for the root itself. */
  readonly rel: string;
  readonly abs: string;
  readonly stat: Stats;
  /** An ADD download: never extracted, whatever ADD does with local archives. */
  readonly remote?: boolean;
}

/** The context directory with its .dockerignore (the Dockerfile and .dockerignore themselves stay visible). */
export async function contextRoot(dir: string): Promise<SourceRoot> {
  const text = await readFile(path.join(dir, '.dockerignore'), 'utf8').catch(() => '');
  const ig = dockerignore().add(text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')));
  return { dir, ignored: (rel) => rel !== '' && ig.ignores(rel) };
}

/** A root with nothing left out (another stage, an image). */
export function plainRoot(dir: string): SourceRoot {
  return { dir, ignored: () => false };
}

const hasGlob = (s: string): boolean => /[*?[]/.test(s);

function segmentRegex(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i] ?? '';
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 1);
      if (end < 0) throw new BerthError('invalid_argument', `bad pattern "${seg}"`);
      const body = seg.slice(i + 1, end);
      re += `[${body.startsWith('^') || body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
      i = end;
    } else if (c === '\\' && i + 1 < seg.length) re += `\\${seg[++i] ?? ''}`;
    else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The paths `pattern` names in `root` (relative; "" is the root). */
export async function matchSources(root: SourceRoot, pattern: string): Promise<Source[]> {
  const norm = path.posix.normalize(`/${pattern}`).slice(1).replace(/\/$/, '');
  if (norm.startsWith('..')) throw new BerthError('invalid_argument', `${pattern} is outside the build context`);
  let candidates = [''];
  for (const seg of norm === '' ? [] : norm.split('/')) {
    const next: string[] = [];
    for (const base of candidates) {
      if (!hasGlob(seg)) {
        next.push(base ? `${base}/${seg}` : seg);
        continue;
      }
      const re = segmentRegex(seg);
      const names = await readdir(path.join(root.dir, base)).catch(() => [] as string[]);
      for (const n of names.sort()) if (re.test(n)) next.push(base ? `${base}/${n}` : n);
    }
    candidates = next;
  }
  const out: Source[] = [];
  for (const rel of candidates) {
    if (root.ignored(rel)) continue;
    const abs = path.join(root.dir, rel);
    const stat = await lstat(abs).catch(() => undefined);
    if (stat) out.push({ rel, abs, stat });
  }
  return out;
}

async function hashFile(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** A digest of what the sources hold: names, types, modes, contents, link targets. */
export async function hashSources(root: SourceRoot, sources: readonly Source[]): Promise<string> {
  const h = createHash('sha256');
  const add = async (rel: string, abs: string, st: Stats): Promise<void> => {
    h.update(`${rel}\0${st.mode.toString(8)}\0`);
    if (st.isSymbolicLink()) h.update(`l${await readlink(abs)}\0`);
    else if (st.isFile()) h.update(`f${await hashFile(abs)}\0`);
    else if (st.isDirectory()) {
      for (const name of (await readdir(abs)).sort()) {
        const childRel = rel ? `${rel}/${name}` : name;
        if (root.ignored(childRel)) continue;
        const child = path.join(abs, name);
        await add(childRel, child, await lstat(child));
      }
    }
  };
  for (const s of sources) await add(s.rel, s.abs, s.stat);
  return h.digest('hex');
}
