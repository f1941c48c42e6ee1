/**
 * A running container's cgroup, found from its init process
 * (/proc/PID/cgroup): per-controller directories on cgroup v1 (and the
 * unified one beside them on a hybrid host), one directory on v2.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../../common/errors';

export interface CgroupDirs {
  /** v1: controller name ("memory", "cpuacct", "pids", "blkio", ...) -> directory. */
  readonly v1: ReadonlyMap<string, string>;
  /** The v2 (unified) directory, where the container's processes are in one. */
  readonly v2?: string;
}

const ROOT = '/sys/fs/cgroup';

export async function cgroupDirs(pid: number, root = ROOT): Promise<CgroupDirs> {
  const text = await readFile(`/proc/${pid}/cgroup`, 'utf8').catch((err: unknown) => {
    throw new BerthError('failed_precondition', `process ${pid} is gone`, { cause: err });
  });
  return parseCgroupFile(text, root);
}

/** The directories named by a /proc/PID/cgroup file. */
export function parseCgroupFile(text: string, root = ROOT): CgroupDirs {
  const v1 = new Map<string, string>();
  let v2: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const [, id, controllers = '', rel = '/'] = m;
    if (id === '0' && controllers === '') {
      // On a hybrid host the unified hierarchy is mounted at <root>/unified.
      v2 = rel === '/' ? undefined : path.join(root, v1.size > 0 ? 'unified' : '', rel);
      continue;
    }
    for (const c of controllers.split(',')) v1.set(c.replace(/^name=/, ''), path.join(root, c.replace(/^name=/, ''), rel));
  }
  return { v1, ...(v2 ? { v2 } : {}) };
}

/** The file's content, or undefined when it is not there. */
export async function readOptional(file: string): Promise<string | undefined> {
  return readFile(file, 'utf8').catch(() => undefined);
}

/** The ids of the processes in the container's cgroup. */
export async function cgroupPids(dirs: CgroupDirs): Promise<number[]> {
  const dir = dirs.v1.get('pids') ?? dirs.v1.get('memory') ?? dirs.v1.get('cpu') ?? dirs.v2;
  if (!dir) throw new BerthError('failed_precondition', 'the container has no cgroup of its own');
  const text = (await readOptional(path.join(dir, 'cgroup.procs'))) ?? '';
  return text
    .split('\n')
    .filter((l) => /^\d+$/.test(l))
    .map(Number);
}
