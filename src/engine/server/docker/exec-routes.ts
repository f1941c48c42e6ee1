/**
 * Docker's exec endpoints (`docker exec`): create, start (hijacked: 8-byte
 * multiplexed frames without a TTY, raw with one; stdin half-close; Detach),
 * resize and inspect. The process is the engine's exec session; ExitCode is
 * recorded before the stream closes, so the client's inspect right after
 * sees it.
 */
import type { Duplex } from 'node:stream';
import type { ExecRequest } from '../../../api/types/containers';
import { BerthError, toBerthError } from '../../../common/errors';
import type { ExecSession } from '../../containers/exec';
import type { ContainerService } from '../services';
import type { Route } from './docker-server';
import type { DockerExec, ExecRegistry } from './exec-registry';
import { frame } from './frames';
import { hijack, send } from './respond';

interface DockerExecCreate {
  Cmd?: string[] | string;
  Env?: string[] | null;
  User?: string;
  WorkingDir?: string;
  Tty?: boolean;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Privileged?: boolean;
  DetachKeys?: string;
  ConsoleSize?: [number, number] | null;
}

interface DockerExecStart {
  Detach?: boolean;
  Tty?: boolean;
  ConsoleSize?: [number, number] | null;
}

function object<T>(body: unknown): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BerthError('invalid_argument', 'the request body must be a JSON object');
  return body as T;
}

function consoleSize(size: [number, number] | null | undefined): { rows: number; cols: number } | undefined {
  return Array.isArray(size) && size[0] > 0 && size[1] > 0 ? { rows: size[0], cols: size[1] } : undefined;
}

function execRequest(b: DockerExecCreate): ExecRequest {
  const cmd = typeof b.Cmd === 'string' ? [b.Cmd] : b.Cmd;
  if (!Array.isArray(cmd) || cmd.length === 0) throw new BerthError('invalid_argument', 'No exec command specified');
  return {
    cmd,
    ...(b.Env?.length ? { env: b.Env } : {}),
    ...(b.User ? { user: b.User } : {}),
    ...(b.WorkingDir ? { workingDir: b.WorkingDir } : {}),
    tty: b.Tty === true,
    attachStdin: b.AttachStdin === true,
    privileged: b.Privileged === true,
  };
}

/** Docker's exit codes for a process that could not start: 127 not found, 126 anything else. */
function startFailureCode(message: string): number {
  return /not found|no such file/i.test(message) ? 127 : 126;
}

/** Starts the exec's process; records its pid and, once it ends, its exit code. */
const sameSize = (a: DockerExec['size'], b: DockerExec['size']): boolean => a?.rows === b?.rows && a?.cols === b?.cols;

async function launch(containers: ContainerService, exec: DockerExec): Promise<ExecSession> {
  const asked = exec.size;
  const session = await containers.exec(exec.containerId, exec.request, asked ? { size: asked } : {});
  exec.session = session;
  exec.pid = session.pid;
  exec.applied = asked;
  // A resize to another size that came while the process was starting. (The docker CLI resizes
  // to the ConsoleSize it sent right after the start; that one needs nothing.)
  if (exec.size && !sameSize(exec.size, asked) && exec.request.tty) {
    session.resize(exec.size.rows, exec.size.cols);
    exec.applied = exec.size;
  }
  return session;
}

function finish(exec: DockerExec, exitCode: number): void {
  exec.exitCode = exitCode;
  exec.running = false;
}

/** Pumps the hijacked connection: stdin in (half-close ends it), output out, then the end once the exit is recorded. */
async function pump(exec: DockerExec, session: ExecSession, socket: Duplex): Promise<void> {
  const tty = exec.request.tty === true;
  if (exec.request.attachStdin) {
    socket.on('data', (chunk: Buffer) => session.write(chunk));
    socket.on('end', () => session.closeStdin());
  }
  // Reading the request body may have paused the socket; a paused stream ignores new 'data' listeners.
  socket.resume();
  const write = (data: Buffer): void => {
    if (!socket.destroyed && socket.writable) socket.write(data);
  };
  for await (const chunk of session.output()) {
    if ((chunk.stream === 'stdout' && !exec.attachStdout) || (chunk.stream === 'stderr' && !exec.attachStderr)) continue;
    write(tty ? chunk.data : frame(chunk.stream, chunk.data));
  }
  finish(exec, await session.exit);
  if (!socket.destroyed) socket.end();
}

export function execRoutes(containers: ContainerService, execs: ExecRegistry): Route[] {
  return [
    [
      'POST',
      /^\/containers\/([^/]+)\/exec$/,
      async ({ res, params, body }) => {
        const b = object<DockerExecCreate>(await body());
        const c = await containers.inspect(params[0] ?? '');
        if (c.state.status !== 'running') throw new BerthError('conflict', `Container ${c.id} is not running`);
        const size = consoleSize(b.ConsoleSize);
        const exec = execs.create(c.id, execRequest(b), {
          stdout: b.AttachStdout !== false,
          stderr: b.AttachStderr !== false,
          ...(b.DetachKeys ? { detachKeys: b.DetachKeys } : {}),
          ...(size ? { size } : {}),
        });
        send(res, 201, { Id: exec.id });
      },
    ],
    [
      'POST',
      /^\/exec\/([^/]+)\/start$/,
      async (ctx) => {
        const b = object<DockerExecStart>(await ctx.body());
        const exec = execs.claim(ctx.params[0] ?? '');
        const size = consoleSize(b.ConsoleSize);
        if (size && !exec.size) exec.size = size;
        if (b.Detach) {
          const session = await launch(containers, exec).catch((err: unknown) => {
            finish(exec, startFailureCode(toBerthError(err).message));
            throw err;
          });
          // Nobody reads the output: drain it so the process never blocks on a full pipe.
          void (async () => {
            for await (const chunk of session.output()) void chunk;
            finish(exec, await session.exit);
          })();
          return send(ctx.res, 200);
        }
        const socket = hijack(ctx, exec.request.tty === true);
        let session: ExecSession;
        try {
          session = await launch(containers, exec);
        } catch (err) {
          // The stream is open already: the reason goes down it, the code to inspect.
          const message = `${toBerthError(err).message}\r\n`;
          finish(exec, startFailureCode(message));
          socket.end(exec.request.tty ? Buffer.from(message) : frame('stderr', Buffer.from(message)));
          return;
        }
        await pump(exec, session, socket);
      },
    ],
    [
      'POST',
      /^\/exec\/([^/]+)\/resize$/,
      async ({ res, params, query }) => {
        const exec = execs.get(params[0] ?? '');
        const rows = Number(query.get('h'));
        const cols = Number(query.get('w'));
        if (!(rows > 0 && cols > 0)) throw new BerthError('invalid_argument', 'resize needs positive h and w');
        exec.size = { rows, cols };
        if (exec.session && exec.running && !sameSize(exec.size, exec.applied)) {
          exec.session.resize(rows, cols);
          exec.applied = exec.size;
        }
        send(res, 200);
        return Promise.resolve();
      },
    ],
    [
      'GET',
      /^\/exec\/([^/]+)\/json$/,
      async ({ res, params }) => {
        const e = execs.get(params[0] ?? '');
        send(res, 200, {
          ID: e.id,
          ContainerID: e.containerId,
          Running: e.running,
          ExitCode: e.exitCode,
          Pid: e.pid,
          OpenStdin: e.request.attachStdin === true,
          OpenStdout: e.attachStdout,
          OpenStderr: e.attachStderr,
          CanRemove: false,
          DetachKeys: e.detachKeys,
          ProcessConfig: {
            tty: e.request.tty === true,
            entrypoint: e.request.cmd[0] ?? '',
            arguments: e.request.cmd.slice(1),
            privileged: e.request.privileged === true,
            ...(e.request.user ? { user: e.request.user } : {}),
          },
        });
        return Promise.resolve();
      },
    ],
    [
      'POST',
      /^\/containers\/([^/]+)\/resize$/,
      async ({ res, params, query }) => {
        const rows = Number(query.get('h'));
        const cols = Number(query.get('w'));
        if (!(rows > 0 && cols > 0)) throw new BerthError('invalid_argument', 'resize needs positive h and w');
        await containers.resize(params[0] ?? '', rows, cols);
        send(res, 200);
      },
    ],
  ];
}
