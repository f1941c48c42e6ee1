/**
 * logs: reads the container's JSON-lines log (Docker's json-file format,
 * written by berth-shim): since, tail, and follow until the container stops.
 */
import { watch, type FSWatcher } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { LogLine } from '../../api/routes';

export interface LogOptions {
  readonly follow?: boolean;
  /** Only entries at or after this Unix time in seconds (fractions allowed). */
  readonly since?: number;
  /** Only entries before this Unix time in seconds. */
  readonly until?: number;
  /** Only the last N entries of what is already there (follow then continues). */
  readonly tail?: number;
  readonly signal?: AbortSignal;
}

/** Nanoseconds since the epoch of an RFC 3339 time with up to 9 fraction digits. */
export function timeNanos(time: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  if (!m) return BigInt(Date.parse(time) || 0) * 1_000_000n;
  const seconds = BigInt(Date.parse(`${m[1] ?? ''}${m[3] ?? 'Z'}`)) / 1000n;
  return seconds * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0') || '0');
}

const secondsToNanos = (s: number): bigint => BigInt(Math.round(s * 1e6)) * 1000n;

export function parseLogEntry(text: string): LogLine | undefined {
  try {
    const v = JSON.parse(text) as { log?: unknown; stream?: unknown; time?: unknown };
    if (typeof v.log !== 'string' || typeof v.time !== 'string') return undefined;
    return { stream: v.stream === 'stderr' ? 'stderr' : 'stdout', line: v.log.endsWith('\n') ? v.log.slice(0, -1) : v.log, time: v.time };
  } catch {
    return undefined;
  }
}

interface ReadState {
  offset: number;
  partial: string;
  /** Kept open for the whole read, so a removal (auto-remove) does not cut off the last lines. */
  fh?: FileHandle;
}

/** Reads new complete lines from `file` starting at `state.offset`. */
async function readNew(file: string, state: ReadState): Promise<string[]> {
  state.fh ??= await open(file, 'r').catch(() => undefined);
  const fh = state.fh;
  if (!fh) return [];
  const lines: string[] = [];
  const buf = Buffer.alloc(256 * 1024);
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, state.offset);
    if (bytesRead === 0) break;
    state.offset += bytesRead;
    const parts = (state.partial + buf.subarray(0, bytesRead).toString('utf8')).split('\n');
    state.partial = parts.pop() ?? '';
    lines.push(...parts);
  }
  return lines;
}

/**
 * The log's entries. With follow, waits for more until `isRunning()` answers
 * false (then reads what is left) or the signal aborts.
 */
export async function* readLogs(file: string, isRunning: () => boolean, options: LogOptions = {}): AsyncGenerator<LogLine> {
  const state: ReadState = { offset: 0, partial: '' };
  try {
    yield* readLogsFrom(file, isRunning, options, state);
  } finally {
    await state.fh?.close().catch(() => undefined);
  }
}

async function* readLogsFrom(file: string, isRunning: () => boolean, options: LogOptions, state: ReadState): AsyncGenerator<LogLine> {
  const since = options.since !== undefined ? secondsToNanos(options.since) : undefined;
  const until = options.until !== undefined ? secondsToNanos(options.until) : undefined;
  const keep = (e: LogLine | undefined): e is LogLine =>
    e !== undefined && (since === undefined || timeNanos(e.time) >= since) && (until === undefined || timeNanos(e.time) < until);
  let first = (await readNew(file, state)).map(parseLogEntry).filter(keep);
  if (options.tail !== undefined && options.tail >= 0) first = options.tail === 0 ? [] : first.slice(-options.tail);
  yield* first;
  if (!options.follow) return;
  let wake: (() => void) | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(file, () => wake?.());
    watcher.on('error', () => undefined);
  } catch {
    /* polling alone */
  }
  const onAbort = (): void => wake?.();
  options.signal?.addEventListener('abort', onAbort);
  try {
    for (;;) {
      if (options.signal?.aborted) return;
      const running = isRunning();
      for (const e of (await readNew(file, state)).map(parseLogEntry)) if (keep(e)) yield e;
      if (!running) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, 200);
        function done(): void {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        }
        wake = done;
      });
    }
  } finally {
    watcher?.close();
    options.signal?.removeEventListener('abort', onAbort);
  }
}
