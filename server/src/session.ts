/**
 * One SSH session channel: env requests, an optional PTY, then exec, shell
 * or a subsystem (sftp, ports, watch).
 */
import { spawn } from 'node:child_process';
import type { IPty } from 'node-pty';
import type { ServerChannel, Session } from 'ssh2';
import type { Logger } from '../../src/common/log';
import type { UserContext } from './process-env';
import { serveSftp } from './sftp-server';
import { servePorts } from './ports';
import { serveWatch } from './watch';

type PtyModule = typeof import('node-pty');

interface PtyRequest {
  cols: number;
  rows: number;
  term: string;
}

export interface SessionDeps {
  readonly user: UserContext;
  readonly logger: Logger;
  /** node-pty, loaded lazily (it is a native module). */
  readonly loadPty: () => PtyModule;
}

/** The client may set the working directory with this environment variable. */
export const CWD_ENV = 'BERTH_CWD';

function signalName(signal: NodeJS.Signals | number | null | undefined): string | undefined {
  if (typeof signal !== 'string') return undefined;
  return signal.replace(/^SIG/, '');
}

function runPlain(stream: ServerChannel, argv: readonly string[], env: Record<string, string>, cwd: string): void {
  const [file = '', ...args] = argv;
  const child = spawn(file, args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdout.pipe(stream, { end: false });
  child.stderr.pipe(stream.stderr, { end: false });
  stream.pipe(child.stdin);
  child.stdin.on('error', () => undefined);
  stream.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGHUP');
  });
  child.on('error', (err) => {
    stream.stderr.write(`berth-agent: cannot run ${file}: ${err.message}\n`);
    stream.exit(127);
    stream.end();
  });
  child.on('close', (code, signal) => {
    const name = signalName(signal);
    if (name) stream.exit(name, false, '');
    else stream.exit(code ?? 0);
    stream.end();
  });
}

/**
 * Requests and data from the client run inside ssh2's parser: what they throw ends the whole connection,
 * every channel of it. Once the terminal is gone (its last process closed it, and node-pty closed the
 * master) but before the process's exit status is known, a resize throws EBADF: a window-change in that
 * moment, as an editor sends when it lays out the terminal of a task that ends at once, is dropped instead.
 */
function runPty(stream: ServerChannel, pty: IPty, onResize: (resize: (cols: number, rows: number) => void) => void, logger: Logger): void {
  const unlessGone = (what: string, fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      logger.debug(`${what} for a terminal that is gone`, { error: (err as Error).message });
    }
  };
  pty.onData((data) => stream.write(data));
  stream.on('data', (data: Buffer) => unlessGone('input', () => pty.write(data.toString('utf8'))));
  onResize((cols, rows) => unlessGone('window-change', () => pty.resize(Math.max(1, cols), Math.max(1, rows))));
  stream.on('close', () => {
    try {
      pty.kill('SIGHUP');
    } catch {
      /* already gone */
    }
  });
  pty.onExit(({ exitCode, signal }) => {
    // Let the last output reach the client before the exit status.
    setImmediate(() => {
      if (signal) stream.exit(signalName(`SIG${String(signal)}` as NodeJS.Signals) ?? 'KILL', false, '');
      else stream.exit(exitCode);
      stream.end();
    });
  });
}

export function handleSession(session: Session, deps: SessionDeps): void {
  const env: Record<string, string> = { ...deps.user.env };
  let pty: PtyRequest | undefined;
  let resize: ((cols: number, rows: number) => void) | undefined;
  const pendingSize: { cols?: number; rows?: number } = {};

  session.on('env', (accept, _reject, info) => {
    env[info.key] = info.val;
    accept?.();
  });
  session.on('pty', (accept, _reject, info) => {
    pty = { cols: info.cols || 80, rows: info.rows || 24, term: info.term || 'xterm-256color' };
    accept?.();
  });
  session.on('window-change', (accept, _reject, info) => {
    if (resize) resize(info.cols, info.rows);
    else Object.assign(pendingSize, { cols: info.cols, rows: info.rows });
    accept?.();
  });

  const start = (stream: ServerChannel, command: string | undefined): void => {
    const cwd = env[CWD_ENV] ?? deps.user.home;
    delete env[CWD_ENV];
    const shell = deps.user.shell;
    if (!shell) {
      stream.stderr.write('berth-agent: this image has no shell to run commands with\n');
      stream.exit(127);
      stream.end();
      return;
    }
    const args = command === undefined ? ['-l'] : ['-c', command];
    if (pty) {
      let proc: IPty;
      try {
        proc = deps.loadPty().spawn(shell, args, { name: pty.term, cols: pty.cols, rows: pty.rows, cwd, env: { ...env, TERM: pty.term } });
      } catch (err) {
        // Thrown here, it would end the connection (see runPty): this channel fails alone.
        deps.logger.warn('cannot start a terminal', { error: (err as Error).message });
        stream.stderr.write(`berth-agent: cannot start a terminal: ${(err as Error).message}\n`);
        stream.exit(127);
        stream.end();
        return;
      }
      runPty(
        stream,
        proc,
        (fn) => {
          resize = fn;
          if (pendingSize.cols && pendingSize.rows) fn(pendingSize.cols, pendingSize.rows);
        },
        deps.logger,
      );
    } else runPlain(stream, [shell, ...args], env, cwd);
  };

  session.on('exec', (accept, _reject, info) => start(accept(), info.command));
  session.on('shell', (accept) => start(accept(), undefined));
  session.on('sftp', (accept) => serveSftp(accept(), { logger: deps.logger }));
  session.on('subsystem', (accept, reject, info) => {
    if (info.name === 'berth-ports') servePorts(accept(), deps.logger);
    else if (info.name === 'berth-watch') serveWatch(accept(), deps.logger);
    else reject?.();
  });
}
