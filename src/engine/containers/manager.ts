/**
 * The container manager: the verbs, each guarded by the state machine and
 * serialized per container (different containers proceed in parallel).
 * Containers run under berth-shim, so the daemon can die at any time;
 * reconcile() at startup picks them up again.
 */
import type { LogLine } from '../../api/routes';
import type { ContainerCreateRequest, ContainerFileEntry, ContainerFileWrite, ContainerRecord, ExecRequest, ListFilters } from '../../api/types/containers';
import type { ContainerService } from '../server/services';
import type { AttachClient } from '../shim/attach-client';
import type { ExitStatus } from '../shim/protocol';
import type { Readable } from 'node:stream';
import { BerthError } from '../../common/errors';
import { readContainerFiles, writeContainerFiles } from './files';
import { archiveFromContainer, extractToContainer, statInContainer, type PathStat } from './archive';
import { directorySize } from '../disk-usage';
import { containerPaths, eventAttributes, isActive, snapshotKey, type ContainerManagerOptions, type ManagerContext } from './context';
import { connectLocked, disconnectLocked } from './connect';
import { createContainer } from './create';
import { attachContainer, execInContainer, resizeContainer, type ExecOptions, type ExecSession } from './exec';
import { KeyedMutex } from './keyed-mutex';
import { readLogs, type LogOptions } from './logs';
import { reconcile, type ReconcileSummary } from './reconcile';
import { removeLocked } from './remove';
import { hostPathMapper, type HostPathOf } from './scoped-path';
import { ensureRootfs, startLocked } from './start';
import { containerStats, type ContainerStats } from './stats';
import { killContainer, stopLocked } from './stop';
import { ContainerStore } from './store';
import { topContainer, type ProcessTable } from './top';
import { waitExit } from './wait';

export type { ContainerManagerOptions, ContainerImage, ImageResolver, SnapshotSource } from './context';

function matchesFilters(c: ContainerRecord, f: ListFilters): boolean {
  if (!f.all && !f.status?.length && !isActive(c)) return false;
  if (f.status?.length && !f.status.includes(c.state.status)) return false;
  if (f.name?.length && !f.name.some((n) => c.name.includes(n.replace(/^\//, '')))) return false;
  if (f.id?.length && !f.id.some((i) => c.id.startsWith(i))) return false;
  if (f.ancestor?.length && !f.ancestor.some((a) => a === c.imageRef || a === c.imageId || c.imageId === `sha256:${a}`)) return false;
  if (f.health?.length && !f.health.includes(c.state.health?.status ?? 'none')) return false;
  return (f.label ?? []).every((l) => {
    const eq = l.indexOf('=');
    const key = eq < 0 ? l : l.slice(0, eq);
    const have = c.request.labels?.[key];
    return have !== undefined && (eq < 0 || have === l.slice(eq + 1));
  });
}

export class ContainerManager implements ContainerService {
  private readonly ctx: ManagerContext;

  constructor(options: ContainerManagerOptions) {
    this.ctx = {
      options,
      store: new ContainerStore(options.root),
      mutex: new KeyedMutex(),
      exits: new Map<string, Promise<ExitStatus>>(),
      monitors: new Map<string, AbortController>(),
      health: new Map<string, AbortController>(),
      afterExit: (id) => {
        if (this.ctx.store.get(id)?.request.autoRemove) {
          this.remove(id, { force: true, volumes: true }).catch((err: unknown) => options.logger.warn('cannot auto-remove container', { id, error: String(err) }));
        }
      },
    };
  }

  /** Loads the records and reconciles them with the shims and the runtime. Call once, before anything else. */
  reconcile(): Promise<ReconcileSummary> {
    return reconcile(this.ctx);
  }

  /** Stops watching exits and health (the containers keep running). */
  dispose(): void {
    for (const c of [...this.ctx.monitors.values(), ...this.ctx.health.values()]) c.abort();
    this.ctx.monitors.clear();
    this.ctx.health.clear();
  }

  private async locked<T>(idOrName: string, fn: (record: ContainerRecord) => Promise<T>): Promise<T> {
    const { id } = this.ctx.store.find(idOrName);
    return this.ctx.mutex.run(id, () => fn(this.ctx.store.find(id)));
  }

  create(request: ContainerCreateRequest, options: { signal?: AbortSignal } = {}): Promise<ContainerRecord> {
    return createContainer(this.ctx, request, options);
  }

  async start(idOrName: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    try {
      await this.locked(idOrName, (r) => startLocked(this.ctx, r, options));
    } catch (err) {
      // Docker: an auto-remove container that cannot start is removed (`docker run --rm` waits for that).
      const r = this.ctx.store.all().find((c) => c.id === idOrName || c.name === idOrName.replace(/^\//, '') || c.id.startsWith(idOrName));
      if (r?.request.autoRemove && r.state.status !== 'running') await this.remove(r.id, { force: true, volumes: true }).catch(() => undefined);
      throw err;
    }
  }

  async stop(idOrName: string, options: { timeout?: number; signal?: AbortSignal } = {}): Promise<void> {
    return this.locked(idOrName, (r) => stopLocked(this.ctx, r, options));
  }

  async kill(idOrName: string, signal = 'SIGKILL'): Promise<void> {
    return killContainer(this.ctx, this.ctx.store.find(idOrName), signal);
  }

  async restart(idOrName: string, options: { timeout?: number; signal?: AbortSignal } = {}): Promise<void> {
    return this.locked(idOrName, async (r) => {
      await stopLocked(this.ctx, r, options);
      const stopped = this.ctx.store.find(r.id);
      const started = await startLocked(this.ctx, { ...stopped, restartCount: stopped.restartCount + 1 }, options);
      this.ctx.options.events.emit({ type: 'container', action: 'restart', id: r.id, attributes: eventAttributes(started) });
    });
  }

  async remove(idOrName: string, options: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    return this.locked(idOrName, (r) => removeLocked(this.ctx, r, options));
  }

  /** Joins a network (plugged in at once when running). */
  async connect(idOrName: string, network: string, options: { aliases?: readonly string[]; signal?: AbortSignal } = {}): Promise<void> {
    return this.locked(idOrName, (r) => connectLocked(this.ctx, r, network, options));
  }

  async disconnect(idOrName: string, network: string): Promise<void> {
    return this.locked(idOrName, (r) => disconnectLocked(this.ctx, r, network));
  }

  async wait(idOrName: string, options: { signal?: AbortSignal } = {}): Promise<{ exitCode: number }> {
    return waitExit(this.ctx, this.ctx.store.find(idOrName).id, options);
  }

  logs(idOrName: string, options: LogOptions = {}): AsyncIterable<LogLine> {
    const { id, logPath } = this.ctx.store.find(idOrName);
    return readLogs(
      logPath,
      () => {
        const r = this.ctx.store.get(id);
        return r !== undefined && (isActive(r) || r.state.status === 'created');
      },
      options,
    );
  }

  async exec(idOrName: string, request: ExecRequest, options: ExecOptions = {}): Promise<ExecSession> {
    return execInContainer(this.ctx, this.ctx.store.find(idOrName), request, options);
  }

  /** Runs a command to completion and collects its output. */
  async execCollect(idOrName: string, request: ExecRequest, options: { signal?: AbortSignal } = {}): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const session = await this.exec(idOrName, request, options);
    const out = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    for await (const chunk of session.output()) out[chunk.stream].push(chunk.data);
    return { exitCode: await session.exit, stdout: Buffer.concat(out.stdout).toString('utf8'), stderr: Buffer.concat(out.stderr).toString('utf8') };
  }

  async attach(idOrName: string, options: { signal?: AbortSignal } = {}): Promise<AttachClient> {
    return attachContainer(this.ctx, this.ctx.store.find(idOrName), options);
  }

  async resize(idOrName: string, rows: number, cols: number): Promise<void> {
    return resizeContainer(this.ctx, this.ctx.store.find(idOrName), rows, cols);
  }

  async top(idOrName: string, psArgs?: string, options: { signal?: AbortSignal } = {}): Promise<ProcessTable> {
    return topContainer(this.ctx.store.find(idOrName), psArgs, options);
  }

  async stats(idOrName: string): Promise<ContainerStats> {
    return containerStats(this.ctx.store.find(idOrName));
  }

  /** Bytes in the container's writable layer (overlay snapshots only; undefined where the layer is a full copy). */
  async sizeRw(idOrName: string, options: { signal?: AbortSignal } = {}): Promise<number | undefined> {
    const record = this.ctx.store.find(idOrName);
    const mounts = await this.ctx.options.snapshotter.mounts(snapshotKey(record.id)).catch(() => []);
    const upper = mounts.flatMap((m) => m.options).find((o) => o.startsWith('upperdir='));
    return upper ? directorySize(upper.slice('upperdir='.length), options) : undefined;
  }

  /** How paths of the container map to the host (a stopped container's rootfs is mounted again if need be). */
  private async hostPaths(record: ContainerRecord, options: { signal?: AbortSignal }): Promise<HostPathOf> {
    if (record.state.status !== 'running') await ensureRootfs(this.ctx, record.id, options);
    return hostPathMapper(record, containerPaths(this.ctx.options, record.id).rootfs);
  }

  async statPath(idOrName: string, containerPath: string, options: { signal?: AbortSignal } = {}): Promise<PathStat> {
    return (await statInContainer(await this.hostPaths(this.ctx.store.find(idOrName), options), containerPath)).stat;
  }

  async archive(idOrName: string, containerPath: string, options: { signal?: AbortSignal } = {}): Promise<{ stat: PathStat; tar: Readable }> {
    return archiveFromContainer(await this.hostPaths(this.ctx.store.find(idOrName), options), containerPath, options);
  }

  async extractArchive(idOrName: string, containerPath: string, tar: Readable, options: { copyOwners?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    const record = this.ctx.store.find(idOrName);
    if (record.request.readonlyRootfs) throw new BerthError('failed_precondition', `container ${record.name} has a read-only root filesystem`);
    return extractToContainer(await this.hostPaths(record, options), containerPath, tar, options);
  }

  async readFiles(idOrName: string, containerPath: string): Promise<readonly ContainerFileEntry[]> {
    return Promise.resolve(readContainerFiles(this.ctx.store.find(idOrName), containerPath));
  }

  async writeFiles(idOrName: string, entries: readonly ContainerFileWrite[]): Promise<void> {
    writeContainerFiles(this.ctx.store.find(idOrName), entries);
    return Promise.resolve();
  }

  list(filters: ListFilters = {}): Promise<readonly ContainerRecord[]> {
    return Promise.resolve(
      this.ctx.store
        .all()
        .filter((c) => matchesFilters(c, filters))
        .sort((a, b) => b.created.localeCompare(a.created)),
    );
  }

  async inspect(idOrName: string): Promise<ContainerRecord> {
    return Promise.resolve(this.ctx.store.find(idOrName));
  }
}
