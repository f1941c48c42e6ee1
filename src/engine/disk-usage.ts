/** Bytes used under a directory (`du`), for `docker system df`. */
import { runChecked } from '../common/process/spawn';

/** Apparent size in bytes of what is under `dir`; 0 when it cannot be read. */
export async function directorySize(dir: string, options: { signal?: AbortSignal } = {}): Promise<number> {
  const r = await runChecked(['du', '-s', '-b', '-x', dir], options).catch(() => undefined);
  return Number(r?.stdout.toString('utf8').split('\t')[0] ?? 0) || 0;
}
