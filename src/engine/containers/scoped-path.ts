/**
 * Paths inside a container's filesystem, resolved as the container would see
 * them: ".." stops at its root and symbolic links (absolute or relative) are
 * followed inside it, never out to the host (like Docker's
 * FollowSymlinkInScope). A running container is seen through
 * /proc/PID/root (its mounts included); a stopped one through its rootfs,
 * with bind and volume mounts mapped to their host paths.
 */
import { lstat, readlink } from 'node:fs/promises';
import path from 'node:path';
import type { ContainerRecord } from '../../api/types/containers';
import { BerthError } from '../../common/errors';

const MAX_LINKS = 255;

/** Maps an absolute, clean path inside the container to a host path. */
export type HostPathOf = (containerPath: string) => string;

export function hostPathMapper(record: ContainerRecord, rootfs: string): HostPathOf {
  if (record.state.status === 'running' && record.state.pid > 0) {
    const root = `/proc/${record.state.pid}/root`;
    return (p) => path.join(root, p);
  }
  const mounts = (record.mounts ?? []).filter((m) => m.type !== 'tmpfs' && m.source !== '').sort((a, b) => b.destination.length - a.destination.length);
  return (p) => {
    const m = mounts.find((x) => p === x.destination || p.startsWith(`${x.destination}/`));
    return m ? path.join(m.source, p.slice(m.destination.length)) : path.join(rootfs, p);
  };
}

/**
 * Resolves `requested` inside the container: the result is an absolute,
 * clean path in the container. `followLast`: whether a symbolic link in the
 * last component is followed too. Components that do not exist are kept as
 * they are.
 */
export async function resolveInScope(hostPathOf: HostPathOf, requested: string, followLast: boolean): Promise<string> {
  if (requested.includes('\0')) throw new BerthError('invalid_argument', 'the path contains a NUL byte');
  const queue = requested.split('/');
  const done: string[] = [];
  let links = 0;
  while (queue.length > 0) {
    const part = queue.shift() ?? '';
    if (part === '' || part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const candidate = `/${[...done, part].join('/')}`;
    const last = !queue.some((p) => p !== '' && p !== '.');
    const st = last && !followLast ? undefined : await lstat(hostPathOf(candidate)).catch(() => undefined);
    if (!st?.isSymbolicLink()) {
      done.push(part);
      continue;
    }
    if (++links > MAX_LINKS) throw new BerthError('invalid_argument', `too many levels of symbolic links in ${requested}`);
    const target = await readlink(hostPathOf(candidate));
    if (target.startsWith('/')) done.length = 0;
    queue.unshift(...target.split('/'));
  }
  return `/${done.join('/')}`;
}
