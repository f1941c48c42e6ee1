/**
 * exec and attach. An exec runs under its own berth-shim in exec mode
 * (`runtime exec -d`, with a console socket for a TTY): the shim keeps its
 * output until the first client attaches and its exit until one has read it,
 * so nothing is lost between the launch and the attach.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ContainerRecord, ExecRequest } from '../../api/types/containers';
import { BerthError } from '../../common/errors';
import { capabilities } from '../oci/spec';
import { resolveUser } from '../oci/user';
import { AttachClient, type OutputChunk } from '../shim/attach-client';
import { launchShim } from '../shim/launch';
import { readExit } from '../shim/protocol';
import { containerPaths, eventAttributes, socketBase, runtimeOf, type ManagerContext } from './context';
import { assertCanAttach, assertCanExec } from './state';

export interface ExecOptions {
  /** Initial terminal size for a TTY. */
  readonly size?: { readonly rows: number; readonly cols: number };
  /** The process's stdin and stdout are this socket (no tty): its bytes never pass through the shim or the daemon. */
  readonly stdio?: Socket;
  readonly signal?: AbortSignal;
}

export interface ExecSession {
  readonly id: string;
  readonly pid: number;
  /** The output frames (a TTY has only stdout). */
  output(): AsyncIterable<OutputChunk>;
  write(data: Uint8Array): void;
  closeStdin(): void;
  resize(rows: number, cols: number): void;
  kill(signal: number): void;
  /** The exit code once the process ended. */
  readonly exit: Promise<number>;
}

interface ProcessSpec {
  terminal?: boolean;
  user?: { uid: number; gid: number; additionalGids?: number[] };
  args: string[];
  env?: string[];
  cwd?: string;
  capabilities?: Record<string, string[]>;
  [key: string]: unknown;
}

function mergeEnv(base: readonly string[], extra: readonly string[]): string[] {
  const env = new Map<string, string>();
  for (const kv of [...base, ...extra]) {
    const eq = kv.indexOf('=');
    if (eq > 0) env.set(kv.slice(0, eq), kv);
  }
  return [...env.values()];
}

async function processSpec(record: ContainerRecord, req: ExecRequest, size?: ExecOptions['size']): Promise<ProcessSpec> {
  if (req.cmd.length === 0) throw new BerthError('invalid_argument', 'exec needs a command');
  const spec = JSON.parse(await readFile(path.join(record.bundle, 'config.json'), 'utf8')) as { process: ProcessSpec };
  const proc: ProcessSpec = { ...spec.process, args: [...req.cmd], terminal: req.tty === true };
  proc.env = mergeEnv(spec.process.env ?? [], [...(req.tty ? ['TERM=xterm'] : []), ...(req.env ?? [])]);
  // The runtime sizes the pty before the process starts (the shim's resize after `runc exec` returns is too late for `stty size`).
  if (req.tty && size && size.rows > 0 && size.cols > 0) proc.consoleSize = { height: size.rows, width: size.cols };
  if (req.workingDir) proc.cwd = req.workingDir;
  if (req.user) {
    const u = await resolveUser(path.join(record.bundle, 'rootfs'), req.user);
    proc.user = { uid: u.uid, gid: u.gid, additionalGids: [...u.additionalGids] };
  }
  if (req.privileged) {
    const all = capabilities({ image: '', privileged: true });
    proc.capabilities = { bounding: all, effective: all, permitted: all };
  }
  return proc;
}

export async function execInContainer(ctx: ManagerContext, record: ContainerRecord, req: ExecRequest, options: ExecOptions = {}): Promise<ExecSession> {
  assertCanExec(record);
  const execId = randomBytes(16).toString('hex');
  const dir = path.join(containerPaths(ctx.options, record.id).execs, execId);
  const sock = socketBase(ctx.options.execRoot, dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const cleanup = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    const processFile = path.join(dir, 'process.json');
    await writeFile(processFile, JSON.stringify(await processSpec(record, req, options.size)));
    ctx.options.events.emit({ type: 'container', action: 'exec_create', id: record.id, attributes: eventAttributes(record, { execID: execId }) });
    const exitFile = path.join(dir, 'exit.json');
    const { pid } = await launchShim(
      {
        shim: ctx.options.shim,
        runtime: runtimeOf(ctx, record),
        id: record.id,
        execProcess: processFile,
        pidFile: path.join(dir, 'pid'),
        exitFile,
        attachSocket: `${sock}.sock`,
        consoleSocket: `${sock}.con`,
        tty: req.tty === true,
        openStdin: req.attachStdin === true,
        ...(options.size ? { size: options.size } : {}),
        ...(options.stdio ? { stdio: options.stdio } : {}),
      },
      options,
    );
    const client = await AttachClient.connect(`${sock}.sock`, options);
    ctx.options.events.emit({ type: 'container', action: 'exec_start', id: record.id, attributes: eventAttributes(record, { execID: execId }) });
    const exit = client.exit
      .then(async (status) => (status ?? (await readExit(exitFile)))?.exitCode ?? 255)
      .finally(() => cleanup().catch(() => undefined));
    return {
      id: execId,
      pid,
      output: () => client.output(),
      write: (data) => client.write(data),
      closeStdin: () => client.closeStdin(),
      resize: (rows, cols) => client.resize(rows, cols),
      kill: (signal) => client.kill(signal),
      exit,
    };
  } catch (err) {
    await cleanup().catch(() => undefined);
    throw BerthError.is(err) && err.code === 'failed_precondition' ? new BerthError('failed_precondition', `exec in ${record.name} failed: ${err.message}`, { cause: err }) : err;
  }
}

/** Attaches to the container's stdio (its output from now on, and its stdin if it was opened). */
export function attachContainer(ctx: ManagerContext, record: ContainerRecord, options: { signal?: AbortSignal } = {}): Promise<AttachClient> {
  assertCanAttach(record);
  return AttachClient.connect(containerPaths(ctx.options, record.id).attachSocket, options);
}

/** Sets the container's terminal size. */
export async function resizeContainer(ctx: ManagerContext, record: ContainerRecord, rows: number, cols: number): Promise<void> {
  if (record.request.tty !== true) throw new BerthError('failed_precondition', `container ${record.name} has no terminal`);
  const client = await attachContainer(ctx, record);
  client.resize(rows, cols);
  await client.close();
}
