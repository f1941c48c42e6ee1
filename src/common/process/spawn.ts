import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { BerthError } from '../errors';

export interface RunOptions {
  readonly cwd?: string;
  /** Explicit environment; defaults to the current process's. */
  readonly env?: NodeJS.ProcessEnv;
  /** What the process reads on stdin; a stream is piped (its error ends stdin). */
  readonly input?: string | Buffer | Readable;
  readonly signal?: AbortSignal;
  /** Keep at most this many bytes of stdout (default 16 MiB). */
  readonly maxStdout?: number;
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  /** The last 64 KiB of stderr. */
  readonly stderr: string;
}

const STDERR_TAIL = 64 * 1024;

/** Thrown by runChecked when a process exits non-zero or by a signal. */
export class ChildProcessError extends BerthError {
  readonly result: RunResult;
  constructor(argv: readonly string[], result: RunResult) {
    const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${String(result.code)}`;
    const tail = result.stderr.trim().split('\n').slice(-5).join('\n');
    super('internal', `${argv[0] ?? '?'} ${how}${tail ? `: ${tail}` : ''}`, { details: { argv: argv.join(' ') } });
    this.result = result;
  }
}

/**
 * Runs a program with an argv array (never a shell). On abort the whole
 * process group is killed and the promise rejects with a cancelled error.
 */
export function run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (!file) return Promise.reject(new BerthError('invalid_argument', 'empty argv'));
  options.signal?.throwIfAborted();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const maxStdout = options.maxStdout ?? 16 * 1024 * 1024;
    const out: Buffer[] = [];
    let outLen = 0;
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      if (outLen < maxStdout) {
        out.push(d);
        outLen += d.length;
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString('utf8')).slice(-STDERR_TAIL);
    });
    const onAbort = (): void => {
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e: NodeJS.ErrnoException) => {
      options.signal?.removeEventListener('abort', onAbort);
      const code = e.code === 'ENOENT' ? 'not_found' : 'internal';
      reject(new BerthError(code, `cannot run ${file}: ${e.message}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (options.signal?.aborted) {
        reject(new BerthError('cancelled', `${file} was cancelled`, { cause: options.signal.reason }));
        return;
      }
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: err });
    });
    child.stdin.on('error', () => undefined);
    const input = options.input;
    if (input instanceof Readable) {
      input.on('error', () => child.stdin.destroy());
      input.pipe(child.stdin);
    } else child.stdin.end(input ?? '');
  });
}

/** Like run, but rejects with ChildProcessError unless the exit code is 0. */
export async function runChecked(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await run(argv, options);
  if (result.code !== 0) throw new ChildProcessError(argv, result);
  return result;
}
