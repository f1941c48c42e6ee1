/**
 * Path safety for layer extraction: entry names are normalized and must stay
 * inside the root, and no existing component on the way may be a symbolic
 * link (writing through one could leave the root) or a non-directory.
 */
import type { Stats } from 'node:fs';
import { lstat, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../../common/errors';

export function hostile(entry: string, why: string): BerthError {
  return new BerthError('invalid_argument', `refusing layer entry "${entry}": ${why}`, { details: { entry } });
}

/**
 * The entry's path relative to the root, normalized ("" for the root itself).
 * A leading "/" is dropped, as Docker does; anything that escapes is refused.
 */
export function safeRelative(name: string): string {
  if (name.includes('\0')) throw hostile(name, 'the name contains a NUL byte');
  const normalized = path.posix.normalize(name.replace(/^\/+/, '')).replace(/\/+$/, '');
  if (normalized === '..' || normalized.startsWith('../')) throw hostile(name, 'the path escapes the layer root');
  return normalized === '.' || normalized === '' ? '' : normalized;
}

export async function lstatOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await lstat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** True for an overlayfs whiteout: a 0/0 character device. */
export function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/**
 * Checks each existing parent of `rel` under `root`; returns the first
 * missing one's relative path (undefined when all exist). Refuses symlinks
 * and non-directories on the way.
 */
export async function checkParents(root: string, rel: string, entry: string): Promise<string | undefined> {
  const parts = rel.split('/').slice(0, -1);
  let current = '';
  for (const part of parts) {
    current = current ? `${current}/${part}` : part;
    const st = await lstatOrUndefined(path.join(root, current));
    if (!st) return current;
    if (st.isSymbolicLink()) throw hostile(entry, `it goes through the symbolic link "${current}"`);
    if (!st.isDirectory()) throw hostile(entry, `its parent "${current}" is not a directory`);
  }
  return undefined;
}

/** The attributes a directory created implicitly should get. */
export interface DirAttrs {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtime?: Date;
}

/**
 * Makes the missing parents of `rel`, from `firstMissing` down, as real
 * directories; `attrsOf` says which attributes each one gets.
 */
export async function makeParents(
  root: string,
  rel: string,
  firstMissing: string,
  attrsOf: (relDir: string) => Promise<DirAttrs>,
  made: (relDir: string, attrs: DirAttrs) => Promise<void>,
): Promise<void> {
  const parts = path.posix.dirname(rel).split('/');
  let current = '';
  for (const part of parts) {
    current = current ? `${current}/${part}` : part;
    if (current.length < firstMissing.length) continue;
    const attrs = await attrsOf(current);
    await mkdir(path.join(root, current), { mode: 0o700 });
    await made(current, attrs);
  }
}
