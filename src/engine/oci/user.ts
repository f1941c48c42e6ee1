/**
 * Resolves a container user against the image's /etc/passwd and /etc/group
 * with Docker's (runc's) rules:
 *   ""            root: uid 0, and the passwd entry for uid 0 if any
 *   "name"        must exist in passwd
 *   "uid"         numeric, even if not in passwd (gid 0, HOME "/")
 *   "x:group"     the group by name (must exist in group) or by number
 * Supplementary groups are the groups that list the user as a member, only
 * when no group was given. The files are read inside the untrusted rootfs
 * without following links out of it (user-rootfs.ts), 4 MiB at most.
 */
import { BerthError } from '../../common/errors';
import { readFileInRoot } from './user-rootfs';

export { openInRoot, readFileInRoot } from './user-rootfs';

export interface ResolvedUser {
  readonly uid: number;
  readonly gid: number;
  readonly additionalGids: readonly number[];
  /** From passwd; "/" when the user has no entry. */
  readonly home: string;
  /** The passwd name, when the user has an entry. */
  readonly name?: string;
}

const MAX_FILE = 4 * 1024 * 1024;
const MAX_ID = 2 ** 31 - 1;

interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
}

const isId = (s: string): boolean => /^\d+$/.test(s) && Number(s) <= MAX_ID;

function records(text: string, minFields: number): string[][] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(':'))
    .filter((f) => f.length >= minFields);
}

export function parsePasswd(text: string): PasswdEntry[] {
  return records(text, 4)
    .filter((f) => isId(f[2] ?? '') && isId(f[3] ?? ''))
    .map((f) => ({ name: f[0] ?? '', uid: Number(f[2]), gid: Number(f[3]), home: f[5] || '/' }));
}

export function parseGroup(text: string): GroupEntry[] {
  return records(text, 3)
    .filter((f) => isId(f[2] ?? ''))
    .map((f) => ({ name: f[0] ?? '', gid: Number(f[2]), members: (f[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean) }));
}

function parseId(s: string, what: string): number {
  const n = Number(s);
  if (n > MAX_ID) throw new BerthError('invalid_argument', `${what} ${s} is out of range`);
  return n;
}

export async function resolveUser(rootfs: string, user: string | undefined, options: { signal?: AbortSignal } = {}): Promise<ResolvedUser> {
  const spec = user ?? '';
  const colon = spec.indexOf(':');
  const userPart = colon < 0 ? spec : spec.slice(0, colon);
  const groupPart = colon < 0 ? '' : spec.slice(colon + 1);
  if (groupPart.includes(':')) throw new BerthError('invalid_argument', `invalid user "${spec}": expected user[:group]`);
  const numericUser = /^\d+$/.test(userPart);
  const passwd = parsePasswd(await readFileInRoot(rootfs, '/etc/passwd', MAX_FILE, options));

  let entry: PasswdEntry | undefined;
  let uid: number;
  if (userPart === '') {
    uid = 0;
    entry = passwd.find((p) => p.uid === 0);
  } else if (numericUser) {
    uid = parseId(userPart, 'uid');
    entry = passwd.find((p) => p.uid === uid);
  } else {
    entry = passwd.find((p) => p.name === userPart);
    if (!entry) throw new BerthError('invalid_argument', `unable to find user ${userPart}: no matching entries in passwd file`);
    uid = entry.uid;
  }

  let gid = entry?.gid ?? 0;
  let additionalGids: number[] = [];
  if (groupPart !== '' || entry) {
    const groups = parseGroup(await readFileInRoot(rootfs, '/etc/group', MAX_FILE, options));
    if (groupPart !== '') {
      const numericGroup = /^\d+$/.test(groupPart);
      const match = groups.find((g) => (numericGroup ? g.gid === Number(groupPart) : g.name === groupPart));
      if (match) gid = match.gid;
      else if (numericGroup) gid = parseId(groupPart, 'gid');
      else throw new BerthError('invalid_argument', `unable to find group ${groupPart}: no matching entries in group file`);
    } else if (entry) {
      const name = entry.name;
      additionalGids = groups.filter((g) => g.members.includes(name)).map((g) => g.gid);
    }
  }
  return { uid, gid, additionalGids, home: entry?.home ?? '/', ...(entry ? { name: entry.name } : {}) };
}
