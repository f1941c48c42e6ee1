/**
 * Docker's copy-up: a volume mounted for the first time over a directory of
 * the image, while the volume is empty, gets the image's content there,
 * ownership, modes, timestamps, extended attributes, hard and symbolic
 * links included (cp -a); the volume's root takes the directory's owner and mode.
 */
import { readdir, stat } from 'node:fs/promises';
import { runChecked } from '../../common/process/spawn';
import { resolveInRoot } from './scoped-path';

/** Copies `rootfs`'s content at `target` into `volumeDir` if the volume is empty and the image has a directory there; true if it did. */
export async function copyUp(rootfs: string, target: string, volumeDir: string, options: { signal?: AbortSignal } = {}): Promise<boolean> {
  if ((await readdir(volumeDir)).length > 0) return false;
  const source = await resolveInRoot(rootfs, target);
  const st = await stat(source).catch(() => undefined);
  if (!st?.isDirectory()) return false;
  // -T: the source directory becomes the volume's root (its attributes included), not a child of it.
  await runChecked(['cp', '-a', '-T', '--', source, volumeDir], options);
  return true;
}
