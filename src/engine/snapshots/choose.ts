/**
 * Which snapshotter an engine uses: the one asked for, else overlay where
 * the data root can hold overlay upper directories (not on overlayfs itself,
 * for instance), else plain copies.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { LayerSnapshotter } from './dir-snapshotter';
import { mountAll, unmount } from './mount';
import { NativeSnapshotter } from './native';
import { OverlaySnapshotter } from './overlay';

export type SnapshotterName = 'overlay' | 'native';

/** Mounts a one-layer overlay under `dir` and removes it again. */
export async function overlayWorks(dir: string, options: { signal?: AbortSignal } = {}): Promise<boolean> {
  const probe = path.join(dir, `.overlay-probe-${process.pid}`);
  const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((d) => path.join(probe, d)) as [string, string, string, string];
  try {
    for (const d of [lower, upper, work, merged]) await mkdir(d, { recursive: true });
    await mountAll([{ type: 'overlay', source: 'overlay', options: [`lowerdir=${lower}`, `upperdir=${upper}`, `workdir=${work}`] }], merged, options);
    await unmount(merged);
    return true;
  } catch {
    return false;
  } finally {
    await rm(probe, { recursive: true, force: true });
  }
}

export async function chooseSnapshotter(
  root: string,
  preferred: SnapshotterName | undefined,
  options: { signal?: AbortSignal } = {},
): Promise<{ snapshotter: LayerSnapshotter; fellBack: boolean }> {
  await mkdir(root, { recursive: true, mode: 0o711 });
  const name = preferred ?? ((await overlayWorks(root, options)) ? 'overlay' : 'native');
  const dir = path.join(root, name);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return { snapshotter: name === 'overlay' ? new OverlaySnapshotter(dir) : new NativeSnapshotter(dir), fellBack: !preferred && name === 'native' };
}
