/**
 * Resolves a path inside a root the way the container will see it: symbolic
 * links are followed, but always within the root (an absolute link target
 * or a ".." starts again from the root, never above it).
 */
import { lstat, readlink } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../../common/errors';

const MAX_LINKS = 255;

/** The host path of `inside` (an absolute container path) under `root`, links resolved in scope. */
export async function resolveInRoot(root: string, inside: string): Promise<string> {
  let pending = inside.split('/').filter(Boolean);
  let done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift() ?? '';
    if (part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const host = path.join(root, ...done, part);
    const st = await lstat(host).catch(() => undefined);
    if (!st?.isSymbolicLink()) {
      done.push(part);
      continue;
    }
    if (++links > MAX_LINKS) throw new BerthError('invalid_argument', `too many levels of symbolic links in ${inside}`);
    const target = await readlink(host);
    if (target.startsWith('/')) done = [];
    pending = [...target.split('/').filter(Boolean), ...pending];
  }
  return path.join(root, ...done);
}
