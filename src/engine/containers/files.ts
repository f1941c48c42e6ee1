/**
 * The native API's file access to a running container: a directory's
 * entries (small files with their content) and writes of directories and
 * files as root, done by the engine itself through the container's
 * /proc/PID/root (its mounts included) instead of an exec, with every
 * path resolved inside the container (root-walk).
 */
import type { ContainerFileEntry, ContainerFileWrite, ContainerRecord } from '../../api/types/containers';
import { MAX_FILE_CONTENT } from '../../api/types/containers';
import { BerthError } from '../../common/errors';
import { makeDirectory, readEntries, writeFile } from './root-walk';

function rootOf(record: ContainerRecord): string {
  if (record.state.status !== 'running' || record.state.pid <= 0) throw new BerthError('conflict', `container ${record.name} is not running`);
  return `/proc/${record.state.pid}/root`;
}

function checkPath(p: unknown): string {
  if (typeof p !== 'string' || !p.startsWith('/')) throw new BerthError('invalid_argument', `a path in the container must be absolute (got ${JSON.stringify(p)})`);
  return p;
}

function checkMode(mode: unknown, fallback: number | undefined): number | undefined {
  if (mode === undefined) return fallback;
  if (typeof mode !== 'number' || !Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new BerthError('invalid_argument', `a mode must be an integer from 0 to 0o7777 (got ${JSON.stringify(mode)})`);
  return mode;
}

export function readContainerFiles(record: ContainerRecord, containerPath: string): ContainerFileEntry[] {
  return readEntries(rootOf(record), checkPath(containerPath), MAX_FILE_CONTENT).map(({ content, ...e }) => (content ? { ...e, content: content.toString('base64') } : e));
}

export function writeContainerFiles(record: ContainerRecord, entries: readonly ContainerFileWrite[]): void {
  if (!Array.isArray(entries)) throw new BerthError('invalid_argument', 'a files write needs "entries"');
  if (record.request.readonlyRootfs) throw new BerthError('failed_precondition', `container ${record.name} has a read-only root filesystem`);
  const root = rootOf(record);
  for (const item of entries as readonly unknown[]) {
    const e = (typeof item === 'object' && item !== null ? item : {}) as Partial<Record<'path' | 'kind' | 'mode' | 'content', unknown>>;
    const p = checkPath(e.path);
    if (e.kind === 'directory') makeDirectory(root, p, checkMode(e.mode, undefined));
    else if (e.kind === 'file') {
      if (typeof e.content !== 'string') throw new BerthError('invalid_argument', `the file ${p} needs its content (base64)`);
      writeFile(root, p, Buffer.from(e.content, 'base64'), checkMode(e.mode, 0o644) ?? 0o644);
    } else throw new BerthError('invalid_argument', `an entry is a "file" or a "directory" (got ${JSON.stringify(e.kind)})`);
  }
}
