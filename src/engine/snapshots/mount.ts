/** Mounting and unmounting snapshot mounts with the `mount` binary. */
import { mkdir } from 'node:fs/promises';
import { BerthError } from '../../common/errors';
import { run, runChecked } from '../../common/process/spawn';
import type { MountSpec } from './types';

export async function mountAll(mounts: readonly MountSpec[], target: string, options: { signal?: AbortSignal } = {}): Promise<void> {
  await mkdir(target, { recursive: true });
  for (const m of mounts) {
    const argv = m.type === 'bind' ? ['mount', '--bind', m.source, target] : ['mount', '-t', m.type, m.source, '-o', m.options.join(','), target];
    await runChecked(argv, { ...(m.cwd ? { cwd: m.cwd } : {}), ...options });
    if (m.type === 'bind' && m.options.includes('ro')) await runChecked(['mount', '-o', 'remount,bind,ro', target], options);
  }
}

/** Unmounts `target` (lazily if busy); not mounted is fine. */
export async function unmount(target: string): Promise<void> {
  const r = await run(['umount', target]);
  if (r.code === 0 || /not mounted|no mount point|not found/i.test(r.stderr)) return;
  const lazy = await run(['umount', '-l', target]);
  if (lazy.code !== 0 && !/not mounted/i.test(lazy.stderr)) throw new BerthError('internal', `cannot unmount ${target}: ${lazy.stderr.trim()}`);
}

export async function isMounted(target: string): Promise<boolean> {
  const r = await run(['mountpoint', '-q', target]);
  return r.code === 0;
}
