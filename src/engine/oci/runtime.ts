/**
 * The OCI runtime driver (runc or crun) with Berth's own state directory
 * (`--root`), never the system default. crun refuses hybrid cgroup hosts, so
 * there every crun call runs in a private mount namespace without the cgroup2
 * mount at /sys/fs/cgroup/unified.
 */
import { readFile } from 'node:fs/promises';
import { BerthError } from '../../common/errors';
import { run, type RunResult } from '../../common/process/spawn';

export type RuntimeName = 'runc' | 'crun';

export interface RuntimeState {
  readonly id: string;
  readonly status: 'creating' | 'created' | 'running' | 'paused' | 'stopped';
  readonly pid: number;
  readonly bundle: string;
}

export interface OciRuntime {
  readonly name: RuntimeName;
  /** The runtime's state directory. */
  readonly root: string;
  /** The full argv for a runtime command: the binary, its global options, then `args`. */
  argv(...args: string[]): string[];
  /** What berth-shim needs after its "--": the runtime argv prefix; and its extra shim flags. */
  shimCommand(): { readonly argv: readonly string[]; readonly flags: readonly string[] };
  /** The container's runtime state; undefined when the runtime does not know it. */
  state(id: string, options?: { signal?: AbortSignal }): Promise<RuntimeState | undefined>;
  /** Sends a signal ("TERM", "SIGKILL", "9"); not_found / failed_precondition when gone or not running. */
  kill(id: string, signal: string, options?: { all?: boolean; signal?: AbortSignal }): Promise<void>;
  /** Deletes the runtime's state of a container; an unknown container is fine. */
  delete(id: string, options?: { force?: boolean; signal?: AbortSignal }): Promise<void>;
  /** Runs a process (an OCI process.json) in the container without a terminal, to completion. */
  exec(id: string, processFile: string, options?: { signal?: AbortSignal }): Promise<RunResult>;
  pause(id: string, options?: { signal?: AbortSignal }): Promise<void>;
  resume(id: string, options?: { signal?: AbortSignal }): Promise<void>;
}

export interface RuntimeOptions {
  readonly name: RuntimeName;
  /** State directory, e.g. /run/berth/runc. */
  readonly root: string;
  /** The binary; defaults to the name, looked up on PATH. */
  readonly binary?: string;
}

const UNIFIED = '/sys/fs/cgroup/unified';
const HIDE_UNIFIED = `umount ${UNIFIED} 2>/dev/null; exec "$0" "$@"`;

/** True on a hybrid cgroup host (v1 controllers plus a cgroup2 mount at /sys/fs/cgroup/unified). */
export async function isHybridCgroup(): Promise<boolean> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return mountinfo.split('\n').some((l) => l.split(' ')[4] === UNIFIED);
}

function stateError(id: string, r: RunResult, what: string): BerthError {
  const msg = r.stderr.trim().split('\n').slice(-3).join('\n');
  if (/does not exist|not found|no such/i.test(msg)) return new BerthError('not_found', `runtime: no container ${id}`);
  if (/not running|stopped|process already finished|container is not/i.test(msg)) return new BerthError('failed_precondition', `container ${id} is not running`);
  return new BerthError('internal', `runtime ${what} of ${id} failed: ${msg}`, { details: { exitCode: r.code } });
}

class Runtime implements OciRuntime {
  readonly name: RuntimeName;
  readonly root: string;
  private readonly prefix: readonly string[];
  private readonly hideUnified: boolean;

  constructor(options: RuntimeOptions, hybrid: boolean) {
    this.name = options.name;
    this.root = options.root;
    this.hideUnified = options.name === 'crun' && hybrid;
    this.prefix = [options.binary ?? options.name, '--root', options.root];
  }

  argv(...args: string[]): string[] {
    const direct = [...this.prefix, ...args];
    return this.hideUnified ? ['unshare', '--mount', '--propagation', 'slave', 'sh', '-c', HIDE_UNIFIED, ...direct] : direct;
  }

  shimCommand(): { argv: readonly string[]; flags: readonly string[] } {
    return { argv: this.prefix, flags: this.hideUnified ? ['--umount-unified'] : [] };
  }

  async state(id: string, options: { signal?: AbortSignal } = {}): Promise<RuntimeState | undefined> {
    const r = await run(this.argv('state', id), options);
    if (r.code !== 0) {
      const err = stateError(id, r, 'state');
      if (err.code === 'not_found') return undefined;
      throw err;
    }
    const parsed = JSON.parse(r.stdout.toString('utf8')) as { id?: unknown; status?: unknown; pid?: unknown; bundle?: unknown };
    const status = typeof parsed.status === 'string' ? parsed.status : 'stopped';
    return {
      id,
      status: (['creating', 'created', 'running', 'paused', 'stopped'].includes(status) ? status : 'stopped') as RuntimeState['status'],
      pid: typeof parsed.pid === 'number' ? parsed.pid : 0,
      bundle: typeof parsed.bundle === 'string' ? parsed.bundle : '',
    };
  }

  async kill(id: string, signal: string, options: { all?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    const sig = signal.toUpperCase().replace(/^SIG/, '');
    if (!/^([A-Z0-9+-]+)$/.test(sig)) throw new BerthError('invalid_argument', `invalid signal ${signal}`);
    const r = await run(this.argv('kill', ...(options.all ? ['--all'] : []), id, sig), options);
    if (r.code !== 0) throw stateError(id, r, 'kill');
  }

  async delete(id: string, options: { force?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    const r = await run(this.argv('delete', ...(options.force ? ['--force'] : []), id), options);
    if (r.code !== 0) {
      const err = stateError(id, r, 'delete');
      if (err.code !== 'not_found') throw err;
    }
  }

  exec(id: string, processFile: string, options: { signal?: AbortSignal } = {}): Promise<RunResult> {
    return run(this.argv('exec', '--process', processFile, id), options);
  }

  async pause(id: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    const r = await run(this.argv('pause', id), options);
    if (r.code !== 0) throw stateError(id, r, 'pause');
  }

  async resume(id: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    const r = await run(this.argv('resume', id), options);
    if (r.code !== 0) throw stateError(id, r, 'resume');
  }
}

/** Builds the driver; for crun it checks the host's cgroup layout once. */
export async function createRuntime(options: RuntimeOptions): Promise<OciRuntime> {
  return new Runtime(options, options.name === 'crun' ? await isHybridCgroup() : false);
}

/** True when the runtime's binary runs here. */
export async function runtimeAvailable(name: RuntimeName, options: { signal?: AbortSignal } = {}): Promise<boolean> {
  const r = await run([name, '--version'], options).catch(() => undefined);
  return r?.code === 0;
}

/**
 * The runtime for new containers: the one asked for, else crun where it
 * runs (a C runtime: container start costs about half of runc's), else runc.
 */
export async function chooseRuntime(preferred?: RuntimeName, options: { signal?: AbortSignal } = {}): Promise<RuntimeName> {
  if (preferred) return preferred;
  return (await runtimeAvailable('crun', options)) ? 'crun' : 'runc';
}
