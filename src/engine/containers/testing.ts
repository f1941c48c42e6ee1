/**
 * Test support for the container manager (not used by the engine): berth-shim
 * built with gcc into a temp dir, a busybox rootfs, a snapshotter stand-in
 * that bind-mounts that rootfs (the real snapshotter has its own suite), and
 * a manager over it all.
 */
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { BerthError } from '../../common/errors';
import { silentLogger } from '../../common/log';
import { createRuntime, type RuntimeName } from '../oci/runtime';
import { unmount } from '../snapshots/mount';
import type { MountSpec } from '../snapshots/types';
import type { SnapshotSource } from './context';
import { EventBus } from './events';
import { ContainerManager } from './manager';

const exec = promisify(execFile);

/** The repository root, from out/src/engine/containers or src/engine/containers. */
export function repoRoot(): string {
  const up = path.resolve(__dirname, '..', '..', '..');
  return path.basename(up) === 'out' ? path.dirname(up) : up;
}

export const SHIM_SOURCE = (): string => path.join(repoRoot(), 'src', 'engine', 'shim', 'berth-shim.c');

/** gcc -Wall -Wextra -Werror -O2: the same flags as the build, warnings are errors here. */
export async function buildShim(outFile: string): Promise<string> {
  await exec('gcc', ['-Wall', '-Wextra', '-Werror', '-O2', '-o', outFile, SHIM_SOURCE()]);
  return outFile;
}

export async function makeBusyboxRootfs(rootfs: string): Promise<void> {
  const busybox = (await exec('sh', ['-c', 'command -v busybox'])).stdout.trim();
  for (const d of ['bin', 'etc', 'tmp', 'root', 'proc', 'sys', 'dev']) await mkdir(path.join(rootfs, d), { recursive: true });
  await chmod(path.join(rootfs, 'tmp'), 0o1777);
  await copyFile(busybox, path.join(rootfs, 'bin', 'busybox'));
  await chmod(path.join(rootfs, 'bin', 'busybox'), 0o755);
  const applets = (await exec(busybox, ['--list'])).stdout.split('\n').filter((a) => a && a !== 'busybox');
  await Promise.all(applets.map((a) => symlink('busybox', path.join(rootfs, 'bin', a))));
  await writeFile(path.join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  await writeFile(path.join(rootfs, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
}

/** Every prepared snapshot is a bind mount of the one busybox rootfs. */
export class BindSnapshots implements SnapshotSource {
  readonly keys = new Set<string>();
  constructor(private readonly rootfs: string) {}
  prepare(key: string): Promise<readonly MountSpec[]> {
    if (this.keys.has(key)) return Promise.reject(new BerthError('already_exists', `snapshot ${key} exists`));
    this.keys.add(key);
    return this.mounts(key);
  }
  mounts(_key: string): Promise<readonly MountSpec[]> {
    return Promise.resolve([{ type: 'bind', source: this.rootfs, options: [] }]);
  }
  remove(key: string): Promise<void> {
    if (!this.keys.delete(key)) return Promise.reject(new BerthError('not_found', `no snapshot ${key}`));
    return Promise.resolve();
  }
}

export interface FixtureDirs {
  readonly dir: string;
  readonly shim: string;
  readonly rootfs: string;
}

/** A temp dir with the shim and the rootfs; remove it with cleanupDirs. */
export async function createDirs(): Promise<FixtureDirs> {
  const dir = await mkdtemp(path.join(tmpdir(), 'berth-ct-'));
  const rootfs = path.join(dir, 'busybox');
  await Promise.all([buildShim(path.join(dir, 'berth-shim')), makeBusyboxRootfs(rootfs)]);
  return { dir, shim: path.join(dir, 'berth-shim'), rootfs };
}

export const IMAGE_ID = `sha256:${'ab'.repeat(32)}` as const;

export async function createManager(dirs: FixtureDirs, runtime: RuntimeName = 'runc', events = new EventBus()): Promise<{ manager: ContainerManager; events: EventBus; snapshots: BindSnapshots }> {
  const snapshots = new BindSnapshots(dirs.rootfs);
  const manager = new ContainerManager({
    root: path.join(dirs.dir, 'containers'),
    execRoot: path.join(dirs.dir, 'run'),
    runtime: await createRuntime({ name: runtime, root: path.join(dirs.dir, 'run', runtime) }),
    shim: dirs.shim,
    snapshotter: snapshots,
    resolveImage: () => Promise.resolve({ id: IMAGE_ID, config: { Cmd: ['sh'], Env: ['PATH=/bin'] } }),
    events,
    logger: silentLogger(),
  });
  return { manager, events, snapshots };
}

/** Kills and deletes whatever the runtime still knows under the fixture, unmounts, removes the dir. */
export async function cleanupDirs(dirs: FixtureDirs): Promise<void> {
  for (const name of ['runc', 'crun'] as const) {
    const rt = await createRuntime({ name, root: path.join(dirs.dir, 'run', name) });
    const list = await exec(rt.argv('list', '-q')[0] ?? name, rt.argv('list', '-q').slice(1)).catch(() => ({ stdout: '' }));
    for (const id of list.stdout.split('\n').filter(Boolean)) {
      await rt.kill(id, 'KILL', { all: true }).catch(() => undefined);
      await rt.delete(id, { force: true }).catch(() => undefined);
    }
  }
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  const mine = mountinfo.split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(dirs.dir + '/'));
  for (const m of mine.reverse()) await unmount(m).catch(() => undefined);
  await rm(dirs.dir, { recursive: true, force: true });
}
