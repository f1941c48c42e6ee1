/**
 * `docker top`: the host's `ps` with the caller's options, narrowed to the
 * processes of the container's cgroup (as Docker does).
 */
import type { ContainerRecord } from '../../api/types/containers';
import { BerthError } from '../../common/errors';
import { runChecked } from '../../common/process/spawn';
import { cgroupDirs, cgroupPids } from './cgroup';

export interface ProcessTable {
  readonly titles: string[];
  readonly processes: string[][];
}

/** Splits ps output into its header's columns; the last column (the command) keeps its spaces. */
export function parsePs(output: string, pids: ReadonlySet<number>): ProcessTable {
  const lines = output.split('\n').filter((l) => l.trim() !== '');
  const titles = (lines[0] ?? '').trim().split(/\s+/);
  const pidColumn = titles.indexOf('PID');
  if (pidColumn < 0) throw new BerthError('invalid_argument', `ps output has no PID column (titles: ${titles.join(' ')})`);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    const row = [...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')];
    if (pids.has(Number(row[pidColumn]))) processes.push(row);
  }
  return { titles, processes };
}

export async function topContainer(record: ContainerRecord, psArgs = '-ef', options: { signal?: AbortSignal } = {}): Promise<ProcessTable> {
  if (record.state.status !== 'running' || record.state.pid <= 0) throw new BerthError('conflict', `Container ${record.id} is not running`);
  const pids = new Set(await cgroupPids(await cgroupDirs(record.state.pid)));
  const args = psArgs.trim() === '' ? [] : psArgs.trim().split(/\s+/);
  if (args.some((a) => !/^[-\w,=:%+]+$/.test(a))) throw new BerthError('invalid_argument', `unsupported ps options: ${psArgs}`);
  const { stdout } = await runChecked(['ps', ...args], options).catch((err: unknown) => {
    throw new BerthError('invalid_argument', `ps ${psArgs} failed: ${(err as Error).message}`, { cause: err });
  });
  return parsePs(stdout.toString('utf8'), pids);
}
