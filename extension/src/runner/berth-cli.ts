/**
 * Runs the `berth` CLI for the extension: argv arrays, no shell, the
 * engine's socket from the settings (or a remote host, its token and TLS
 * pin in the environment, so the token never shows in argv), `--log-format json` on stderr streamed
 * line by line to the caller, one JSON result on stdout (or text: ssh-config). Cancelling kills
 * the process group. No vscode import: the caller passes callbacks.
 */
import { spawn } from 'node:child_process';
import type { EngineTarget } from '../../../src/api/engine-target';
import { BerthError, ERROR_CODES, type ErrorCode } from '../../../src/common/errors';
import { LineSplitter, parseLogLine, type LogLine } from './log-lines';

export interface CliSettings {
  /** The berth executable (a path, or "berth" on the PATH). */
  readonly executable: string;
  /** The engine's API socket; undefined: berth's default. */
  readonly socket?: string | undefined;
  /** A remote engine (berth.host...): passed as $BERTH_HOST, $BERTH_TOKEN, $BERTH_TLS_FINGERPRINT, $BERTH_TLS_CA. */
  readonly remote?: Omit<EngineTarget, 'socket'> | undefined;
}

export interface CliRunOptions {
  readonly cwd?: string;
  readonly signal?: AbortSignal;
  readonly onLog?: (line: LogLine) => void;
  readonly env?: NodeJS.ProcessEnv;
}

/** Commands that take --socket (all that talk to the engine). */
const NO_ENGINE = new Set(['templates', 'list-configurations']);

export function cliArgv(settings: CliSettings, args: readonly string[]): string[] {
  const [verb = '', ...rest] = args;
  const socket = settings.socket && !settings.remote?.host && !NO_ENGINE.has(verb) ? ['--socket', settings.socket] : [];
  return [verb, ...socket, '--log-format', 'json', ...rest];
}

/** The CLI's environment: the base one, with the remote host's settings replacing any $BERTH_HOST/... it had. */
export function cliEnv(settings: CliSettings, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const r = settings.remote;
  if (!r?.host) return base;
  const env: NodeJS.ProcessEnv = { ...base, BERTH_HOST: r.host };
  for (const [name, value] of [['BERTH_TOKEN', r.token], ['BERTH_TLS_FINGERPRINT', r.tlsFingerprint], ['BERTH_TLS_CA', r.tlsCa]] as const) {
    if (value) env[name] = value;
    else delete env[name];
  }
  delete env['BERTH_SOCKET'];
  return env;
}

/** Parses the one JSON result; an error result becomes a BerthError with its code. */
export function parseResult(stdout: string, code: number | null, stderrTail: string): Record<string, unknown> {
  const line = stdout.trim().split('\n').filter((l) => l !== '').pop();
  let value: Record<string, unknown> | undefined;
  try {
    value = line ? (JSON.parse(line) as Record<string, unknown>) : undefined;
  } catch {
    value = undefined;
  }
  if (value && value['outcome'] === 'error') {
    const c = String(value['code']);
    throw new BerthError((ERROR_CODES as readonly string[]).includes(c) ? (c as ErrorCode) : 'internal', typeof value['message'] === 'string' ? value['message'] : 'berth failed');
  }
  if (code !== 0 || !value) throw new BerthError('internal', `berth exited with code ${String(code)}${stderrTail ? `: ${stderrTail}` : ''}`);
  return value;
}

interface CliExit {
  readonly stdout: string;
  readonly code: number | null;
  readonly stderrTail: string;
}

/** Runs the CLI: its stdout, exit code and the last lines it logged. */
function spawnCli(settings: CliSettings, args: readonly string[], options: CliRunOptions): Promise<CliExit> {
  if (options.signal?.aborted) return Promise.reject(new BerthError('cancelled', `berth ${args[0] ?? ''} was cancelled`));
  const argv = cliArgv(settings, args);
  return new Promise((resolve, reject) => {
    const child = spawn(settings.executable, argv, {
      cwd: options.cwd,
      env: cliEnv(settings, options.env ?? process.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    const tail: string[] = [];
    const lines = new LineSplitter();
    const onLine = (raw: string): void => {
      const parsed = parseLogLine(raw);
      if (!parsed) return;
      tail.push(parsed.text);
      if (tail.length > 5) tail.shift();
      options.onLog?.(parsed);
    };
    const onAbort = (): void => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => lines.push(d).forEach(onLine));
    child.on('error', (err: NodeJS.ErrnoException) => {
      options.signal?.removeEventListener('abort', onAbort);
      reject(new BerthError(err.code === 'ENOENT' ? 'failed_precondition' : 'internal', `cannot run ${settings.executable}: ${err.message} (set berth.executable)`, { cause: err }));
    });
    child.on('close', (code) => {
      options.signal?.removeEventListener('abort', onAbort);
      lines.end().forEach(onLine);
      if (options.signal?.aborted) return reject(new BerthError('cancelled', `berth ${args[0] ?? ''} was cancelled`));
      resolve({ stdout, code, stderrTail: tail.join('\n') });
    });
  });
}

/** A command's one JSON result. */
export async function runCli(settings: CliSettings, args: readonly string[], options: CliRunOptions = {}): Promise<Record<string, unknown>> {
  const r = await spawnCli(settings, args, options);
  return parseResult(r.stdout, r.code, r.stderrTail);
}

/** A command whose stdout is text (ssh-config); a failure's JSON error result is thrown as for runCli. */
export async function runCliText(settings: CliSettings, args: readonly string[], options: CliRunOptions = {}): Promise<string> {
  const r = await spawnCli(settings, args, options);
  if (r.code !== 0) parseResult(r.stdout, r.code, r.stderrTail);
  return r.stdout;
}
