/**
 * Docker's exec instances: created by one request, started by another,
 * inspected until their container goes. The process itself is the engine's
 * exec session (ContainerService.exec); this only keeps what Docker clients
 * ask about it between the requests.
 */
import { randomBytes } from 'node:crypto';
import type { ExecRequest } from '../../../api/types/containers';
import { BerthError } from '../../../common/errors';
import type { ExecSession } from '../../containers/exec';

export interface DockerExec {
  readonly id: string;
  readonly containerId: string;
  readonly request: ExecRequest;
  readonly attachStdout: boolean;
  readonly attachStderr: boolean;
  readonly detachKeys: string;
  /** Terminal size last asked for. */
  size?: { rows: number; cols: number };
  /** The size the process's terminal was last given. */
  applied?: { rows: number; cols: number } | undefined;
  session?: ExecSession;
  running: boolean;
  exitCode: number | null;
  pid: number;
}

/** Finished execs kept for inspection; the oldest go first beyond this. */
const KEEP_FINISHED = 512;

export class ExecRegistry {
  private readonly execs = new Map<string, DockerExec>();

  create(containerId: string, request: ExecRequest, streams: { stdout: boolean; stderr: boolean; detachKeys?: string; size?: { rows: number; cols: number } }): DockerExec {
    const exec: DockerExec = {
      id: randomBytes(32).toString('hex'),
      containerId,
      request,
      attachStdout: streams.stdout,
      attachStderr: streams.stderr,
      detachKeys: streams.detachKeys ?? '',
      ...(streams.size ? { size: streams.size } : {}),
      running: false,
      exitCode: null,
      pid: 0,
    };
    this.execs.set(exec.id, exec);
    this.trim();
    return exec;
  }

  get(id: string): DockerExec {
    const exec = this.execs.get(id);
    if (!exec) throw new BerthError('not_found', `No such exec instance: ${id}`);
    return exec;
  }

  /** Marks it started; a second start is refused as Docker does. */
  claim(id: string): DockerExec {
    const exec = this.get(id);
    if (exec.session || exec.running || exec.exitCode !== null) throw new BerthError('conflict', `exec ${id} has already been started`);
    exec.running = true;
    return exec;
  }

  /** The container's exec ids (for inspect's ExecIDs). */
  ofContainer(containerId: string): string[] {
    return [...this.execs.values()].filter((e) => e.containerId === containerId && e.running).map((e) => e.id);
  }

  private trim(): void {
    const finished = [...this.execs.values()].filter((e) => !e.running);
    for (const e of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.execs.delete(e.id);
  }
}
