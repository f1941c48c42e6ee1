/**
 * `--device`: host device nodes made available in a container, as Docker
 * does: the node at its path in the container (or, for a host folder, every
 * device under it at the same relative path) and a device cgroup rule that
 * allows what the permissions say. Privileged containers get every host
 * device (listHostDevices) instead.
 */
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { DeviceMapping } from '../../api/types/containers';
import { BerthError } from '../../common/errors';
import type { OciDeviceCgroupRule, OciLinuxDevice } from './spec-types';

/** A device for the container: its node, and what the device cgroup allows on it. */
export interface ContainerDevice {
  readonly node: OciLinuxDevice;
  readonly rule: OciDeviceCgroupRule;
}

function checkPermissions(permissions: string | undefined, mapping: DeviceMapping): string {
  const p = permissions ?? 'rwm';
  if (p === '' || !/^[rwm]+$/.test(p) || new Set(p).size !== p.length) {
    throw new BerthError('invalid_argument', `invalid device permissions "${p}" for ${mapping.pathOnHost} (a combination of r, w and m)`);
  }
  return p;
}

/** Major and minor of a device number as Linux encodes it (dev_t). */
export function deviceNumbers(rdev: bigint): { major: number; minor: number } {
  return { major: Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)), minor: Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)) };
}

async function deviceAt(host: string, inContainer: string, access: string): Promise<ContainerDevice | undefined> {
  const st = await lstat(host, { bigint: true });
  if (!st.isCharacterDevice() && !st.isBlockDevice()) return undefined;
  const type = st.isCharacterDevice() ? 'c' : 'b';
  const { major, minor } = deviceNumbers(st.rdev);
  return {
    node: { path: inContainer, type, major, minor, fileMode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid) },
    rule: { allow: true, type, major, minor, access },
  };
}

/** The devices that the mappings name, read from the host now. */
export async function resolveDevices(mappings: readonly DeviceMapping[], options: { signal?: AbortSignal } = {}): Promise<ContainerDevice[]> {
  const out: ContainerDevice[] = [];
  for (const m of mappings) {
    options.signal?.throwIfAborted();
    if (typeof m?.pathOnHost !== 'string' || !path.isAbsolute(m.pathOnHost)) throw new BerthError('invalid_argument', `a device needs an absolute host path (got ${JSON.stringify(m?.pathOnHost)})`);
    const target = m.pathInContainer || m.pathOnHost;
    if (!path.isAbsolute(target)) throw new BerthError('invalid_argument', `the device path in the container must be absolute (got ${target})`);
    const access = checkPermissions(m.permissions, m);
    const st = await lstat(m.pathOnHost).catch((err: unknown) => {
      throw new BerthError('invalid_argument', `error gathering device information while adding custom device "${m.pathOnHost}": no such file or directory`, { cause: err });
    });
    if (st.isDirectory()) {
      const walk = async (dir: string): Promise<void> => {
        for (const e of await readdir(dir, { withFileTypes: true })) {
          const full = path.join(dir, e.name);
          if (e.isDirectory()) await walk(full);
          else {
            const d = await deviceAt(full, path.join(target, path.relative(m.pathOnHost, full)), access);
            if (d) out.push(d);
          }
        }
      };
      await walk(m.pathOnHost);
      continue;
    }
    const d = await deviceAt(m.pathOnHost, target, access);
    if (!d) throw new BerthError('invalid_argument', `${m.pathOnHost} is not a device node`);
    out.push(d);
  }
  return out;
}
