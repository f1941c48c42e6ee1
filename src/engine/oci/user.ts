/**
 * Resolves a container user ("", "name", "uid", "name:group", "uid:gid")
 * against the image's /etc/passwd and /etc/group, read without following
 * symlinks out of the (untrusted) root filesystem.
 */
import { lstat, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../../common/errors';
import type { ResolvedUser } from './spec';

const MAX_FILE = 4 * 1024 * 1024;

/** Resolves `inside` (an absolute path in the container) to a host path under `root`, symlinks resolved within root. */
export async function resolveInRoot(root: string, inside: string): Promise<string> {
  const parts = inside.split('/').filter((p) => p !== '' && p !== '.');
  const resolved: string[] = [];
  let hops = 0;
  while (parts.length > 0) {
    const part = parts.shift() as string;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = path.join(root, ...resolved, part);
    const st = await lstat(candidate).catch(() => undefined);
    if (st?.isSymbolicLink()) {
      if (++hops > 40) throw new BerthError('invalid_argument', `too many symbolic links resolving ${inside}`);
      const target = await readlink(candidate);
      if (target.startsWith('/')) resolved.length = 0;
      parts.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
      continue;
    }
    resolved.push(part);
  }
  return path.join(root, ...resolved);
}

async function readSmall(root: string, file: string): Promise<string> {
  try {
    const p = await resolveInRoot(root, file);
    const st = await lstat(p);
    if (!st.isFile() || st.size > MAX_FILE) return '';
    return await readFile(p, 'utf8');
  } catch {
    return '';
  }
}

interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

function parsePasswd(text: string): PasswdEntry[] {
  return text
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 7 && /^\d+$/.test(f[2] ?? '') && /^\d+$/.test(f[3] ?? ''))
    .map((f) => ({ name: f[0] ?? '', uid: Number(f[2]), gid: Number(f[3]), home: f[5] || '/' }));
}

function parseGroups(text: string): { name: string; gid: number; members: string[] }[] {
  return text
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 3 && /^\d+$/.test(f[2] ?? ''))
    .map((f) => ({ name: f[0] ?? '', gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) }));
}

export async function resolveUser(rootfs: string, spec: string | undefined): Promise<ResolvedUser> {
  const [userPart = '', groupPart] = (spec ?? '').split(':');
  const passwd = parsePasswd(await readSmall(rootfs, '/etc/passwd'));
  const groups = parseGroups(await readSmall(rootfs, '/etc/group'));
  let entry: PasswdEntry | undefined;
  let uid: number;
  if (userPart === '') {
    uid = 0;
    entry = passwd.find((p) => p.uid === 0);
  } else if (/^\d+$/.test(userPart)) {
    uid = Number(userPart);
    entry = passwd.find((p) => p.uid === uid);
  } else {
    entry = passwd.find((p) => p.name === userPart);
    if (!entry) throw new BerthError('invalid_argument', `unable to find user ${userPart}: no matching entries in passwd file`);
    uid = entry.uid;
  }
  let gid = entry?.gid ?? 0;
  if (groupPart !== undefined && groupPart !== '') {
    if (/^\d+$/.test(groupPart)) gid = Number(groupPart);
    else {
      const g = groups.find((x) => x.name === groupPart);
      if (!g) throw new BerthError('invalid_argument', `unable to find group ${groupPart}: no matching entries in group file`);
      gid = g.gid;
    }
  }
  const additionalGids = entry ? groups.filter((g) => g.members.includes(entry.name) && g.gid !== gid).map((g) => g.gid) : [];
  return { uid, gid, additionalGids, home: entry?.home ?? '/' };
}
