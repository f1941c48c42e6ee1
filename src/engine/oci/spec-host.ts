/**
 * What the host allows, read once by the engine and handed to
 * buildRuntimeSpec: the engine's own limits and capabilities (a container
 * cannot exceed them), the cgroup layout, swap accounting, and for
 * privileged containers the host's device nodes.
 */
import { lstat, readdir, readFile } from 'node:fs/promises';
import { release } from 'node:os';
import path from 'node:path';
import { pathExists } from '../../common/path-exists';
import { capabilitiesFromMask } from './capabilities';
import { deviceNumbers } from './devices';
import type { OciLinuxDevice } from './spec-types';

export type CgroupLayout = 'v1' | 'hybrid' | 'v2';

export interface HostFacts {
  /** The engine's hard RLIMIT_NOFILE (without CAP_SYS_RESOURCE nothing can go higher). */
  readonly nofileHardLimit?: number;
  /** The engine's bounding set. */
  readonly capabilities: readonly string[];
  readonly cgroup: CgroupLayout;
  /** cgroup v1: memory.memsw.* exists (v2: memory.swap.max is always there). */
  readonly swapAccounting: boolean;
  readonly kernel: string;
}


export async function readCgroupLayout(root = '/sys/fs/cgroup'): Promise<CgroupLayout> {
  if (await pathExists(path.join(root, 'cgroup.controllers'))) return 'v2';
  return (await pathExists(path.join(root, 'unified', 'cgroup.controllers'))) ? 'hybrid' : 'v1';
}

export async function readHostFacts(options: { signal?: AbortSignal } = {}): Promise<HostFacts> {
  const signal = options.signal ? { signal: options.signal } : {};
  const [limits, status, cgroup] = await Promise.all([
    readFile('/proc/self/limits', { encoding: 'utf8', ...signal }).catch(() => ''),
    readFile('/proc/self/status', { encoding: 'utf8', ...signal }),
    readCgroupLayout(),
  ]);
  const nofile = /^Max open files\s+\S+\s+(\d+)/m.exec(limits)?.[1];
  const swapAccounting = cgroup === 'v2' || (await pathExists('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes'));
  return {
    ...(nofile ? { nofileHardLimit: Number(nofile) } : {}),
    capabilities: capabilitiesFromMask(/^CapBnd:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0'),
    cgroup,
    swapAccounting,
    kernel: release(),
  };
}

/** Directories under /dev that runc's HostDevices skips (each container has its own). */
const SKIP = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

/** The host's character and block devices under /dev, for privileged containers (as runc's HostDevices). */
export async function listHostDevices(options: { signal?: AbortSignal } = {}): Promise<OciLinuxDevice[]> {
  const out: OciLinuxDevice[] = [];
  const walk = async (dir: string): Promise<void> => {
    options.signal?.throwIfAborted();
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP.has(e.name)) await walk(full);
        continue;
      }
      if (e.name === 'console' || !(e.isCharacterDevice() || e.isBlockDevice())) continue;
      const st = await lstat(full, { bigint: true }).catch(() => undefined);
      if (!st) continue;
      const { major, minor } = deviceNumbers(st.rdev);
      out.push({ path: full, type: e.isCharacterDevice() ? 'c' : 'b', major, minor, fileMode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid) });
    }
  };
  await walk('/dev');
  return out;
}
