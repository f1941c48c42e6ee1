/**
 * Starts berth-shim and waits for its report on fd 3: "ok PID" once the
 * process runs, or "error" and the runtime's stderr. The shim detaches at
 * once, so the daemon is neither its parent nor holds its stdio.
 */
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { BerthError } from '../../common/errors';
import type { OciRuntime } from '../oci/runtime';

export interface ShimLaunch {
  /** Path of the berth-shim binary. */
  readonly shim: string;
  readonly runtime: OciRuntime;
  readonly id: string;
  /** Container mode: the bundle. */
  readonly bundle?: string;
  /** Exec mode: the process.json. */
  readonly execProcess?: string;
  readonly pidFile: string;
  readonly exitFile: string;
  readonly attachSocket: string;
  readonly consoleSocket?: string;
  readonly logFile?: string;
  readonly tty?: boolean;
  readonly openStdin?: boolean;
  readonly size?: { readonly rows: number; readonly cols: number };
  /** The process's stdin and stdout: this socket itself (fd 4 of the shim), not pipes the shim holds. */
  readonly stdio?: Socket;
}

export function shimArgv(l: ShimLaunch): string[] {
  const cmd = l.runtime.shimCommand();
  const opt = (flag: string, value: string | undefined): string[] => (value === undefined ? [] : [flag, value]);
  return [
    l.shim,
    '--id', l.id,
    ...opt('--bundle', l.bundle),
    ...opt('--exec', l.execProcess),
    '--pid-file', l.pidFile,
    '--exit-file', l.exitFile,
    '--attach-socket', l.attachSocket,
    ...opt('--console-socket', l.tty ? l.consoleSocket : undefined),
    ...opt('--log', l.logFile),
    ...(l.tty ? ['--tty'] : []),
    ...(l.openStdin ? ['--stdin'] : []),
    ...(l.size ? ['--rows', String(l.size.rows), '--cols', String(l.size.cols)] : []),
    ...(l.stdio ? ['--stdio-fd', '4'] : []),
    ...cmd.flags,
    '--',
    ...cmd.argv,
  ];
}

async function readAll(stream: Readable | null | undefined): Promise<string> {
  if (!stream) return '';
  let text = '';
  for await (const chunk of stream) text += (chunk as Buffer).toString('utf8');
  return text;
}

/** runc and crun log as logfmt (msg="...") or JSON; keep just the messages. */
export function runtimeMessage(stderr: string): string {
  const lines = stderr.trim().split('\n').map((line) => {
    const m = /msg="((?:[^"\\]|\\.)*)"/.exec(line);
    if (!m) return line;
    try {
      return JSON.parse(`"${m[1] ?? ''}"`) as string;
    } catch {
      return m[1] ?? line;
    }
  });
  return lines.filter(Boolean).join('\n') || 'the runtime failed';
}

/** Runs the shim; resolves with the process's pid once it runs, rejects with the runtime's error. */
export async function launchShim(l: ShimLaunch, options: { signal?: AbortSignal } = {}): Promise<{ pid: number }> {
  options.signal?.throwIfAborted();
  await mkdir(path.dirname(l.attachSocket), { recursive: true, mode: 0o700 });
  const [file, ...args] = shimArgv(l);
  const child = spawn(file ?? 'berth-shim', args, { detached: true, stdio: ['ignore', 'ignore', 'pipe', 'pipe', ...(l.stdio ? [l.stdio] : [])] });
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (e: NodeJS.ErrnoException) => reject(new BerthError(e.code === 'ENOENT' ? 'not_found' : 'internal', `cannot run ${file ?? 'berth-shim'}: ${e.message}`, { cause: e })));
  });
  child.unref();
  await spawned;
  const [report, stderr] = await Promise.all([readAll(child.stdio[3] as Readable), readAll(child.stderr)]);
  const ok = /^ok (\d+)\n?$/.exec(report);
  if (ok) return { pid: Number(ok[1]) };
  const reason = report.startsWith('error\n') ? runtimeMessage(report.slice(6)) : stderr.trim() || 'berth-shim exited without a report';
  throw new BerthError('failed_precondition', reason, { details: { id: l.id } });
}
