/**
 * Containers through runc. Each container has a directory with its record,
 * its OCI bundle (config.json, rootfs mount point) and its logs. A started
 * container runs under a tiny supervisor (`sh`, detached in its own session)
 * that waits for `runc run` and writes the exit code, so the engine can die
 * and come back without touching running containers.
 */
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, watch } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LogLine } from '../../api/routes';
import type { ContainerCreateRequest, ContainerRecord, ContainerState, ListFilters } from '../../api/types/containers';
import type { ImageRecord } from '../../api/types/images';
import { BerthError } from '../../common/errors';
import type { Logger } from '../../common/log';
import { run } from '../../common/process/spawn';
import { capabilitiesFromMask } from '../oci/defaults';
import { buildRuntimeSpec } from '../oci/spec';
import { resolveUser } from '../oci/user';
import { mountAll, unmount } from '../snapshots/mount';
import type { Snapshotter } from '../snapshots/types';
import type { ContainerService } from '../server/services';
import type { EventBus } from './events';
import { KeyedMutex } from './keyed-mutex';
import { assertCanKill, assertCanRemove, assertCanStart } from './state';

export interface RuncManagerDeps {
  readonly root: string;
  /** runc's own state directory (under the engine's exec root). */
  readonly runcRoot: string;
  readonly runtime: string;
  readonly snapshotter: Snapshotter;
  readonly getImage: (nameOrId: string) => Promise<ImageRecord>;
  readonly events: EventBus;
  readonly logger: Logger;
}

const ADJECTIVES = ['brave', 'calm', 'eager', 'fond', 'keen', 'lucid', 'merry', 'noble', 'quiet', 'swift', 'tidy', 'warm'];
const NOUNS = ['anchor', 'bay', 'cove', 'dock', 'ferry', 'harbor', 'jetty', 'keel', 'mast', 'pier', 'quay', 'wharf'];
const pick = (xs: readonly string[]): string => xs[randomBytes(1)[0]! % xs.length] ?? 'x';
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const now = (): string => new Date().toISOString();

const INITIAL: ContainerState = { status: 'created', pid: 0, exitCode: 0, oomKilled: false, error: '', startedAt: '', finishedAt: '' };

export class RuncContainerManager implements ContainerService {
  private readonly mutex = new KeyedMutex();
  private readonly records = new Map<string, ContainerRecord>();

  constructor(private readonly deps: RuncManagerDeps) {}

  private capabilityCache: readonly string[] | undefined;

  /** The engine's bounding set: what a privileged container can get here. */
  private async hostCapabilities(): Promise<readonly string[]> {
    if (!this.capabilityCache) {
      const status = await readFile('/proc/self/status', 'utf8');
      this.capabilityCache = capabilitiesFromMask(/^CapBnd:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0');
    }
    return this.capabilityCache;
  }

  private dir(id: string): string {
    return path.join(this.deps.root, id);
  }

  private async save(record: ContainerRecord): Promise<void> {
    this.records.set(record.id, record);
    const file = path.join(this.dir(record.id), 'container.json');
    const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
    await writeFile(tmp, JSON.stringify(record));
    await rename(tmp, file);
  }

  private setState(record: ContainerRecord, state: Partial<ContainerState>): ContainerRecord {
    return { ...record, state: { ...record.state, ...state } };
  }

  /** Loads every record and reconciles it with reality: running, exited with its code, or gone. */
  async load(): Promise<void> {
    await mkdir(this.deps.root, { recursive: true });
    for (const id of await readdir(this.deps.root)) {
      const text = await readFile(path.join(this.dir(id), 'container.json'), 'utf8').catch(() => undefined);
      if (!text) continue;
      let record = JSON.parse(text) as ContainerRecord;
      if (record.state.status === 'running') record = await this.refresh(record);
      this.records.set(record.id, record);
    }
  }

  private async exitInfo(id: string): Promise<{ code: number; at: string } | undefined> {
    const file = path.join(this.dir(id), 'exit');
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    const st = await stat(file);
    return { code: Number(text.trim()), at: st.mtime.toISOString() };
  }

  private pidAlive(pid: number): boolean {
    if (pid <= 0) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  /** Brings a running record up to date from the exit file. */
  private async refresh(record: ContainerRecord): Promise<ContainerRecord> {
    if (record.state.status !== 'running') return record;
    const exit = await this.exitInfo(record.id);
    if (exit) {
      const updated = this.setState(record, { status: 'exited', exitCode: exit.code, pid: 0, finishedAt: exit.at, oomKilled: exit.code === 137 && false });
      await this.save(updated);
      this.deps.events.emit({ type: 'container', action: 'die', id: record.id, attributes: { name: record.name, exitCode: String(exit.code), ...(record.request.labels ?? {}) } });
      if (record.request.autoRemove) await this.removeNow(updated, true).catch(() => undefined);
      return updated;
    }
    if (!this.pidAlive(record.state.pid)) {
      // The supervisor writes the exit code right after the container ends: give it a moment.
      const supervisor = Number((await readFile(path.join(this.dir(record.id), 'supervisor.pid'), 'utf8').catch(() => '0')).trim());
      if (this.pidAlive(supervisor)) return record;
      if (await this.exitInfo(record.id)) return this.refresh(record);
      const updated = this.setState(record, { status: 'exited', exitCode: 255, pid: 0, finishedAt: now(), error: 'the container process disappeared' });
      await this.save(updated);
      return updated;
    }
    return record;
  }

  private find(idOrName: string): ContainerRecord {
    const exact = this.records.get(idOrName);
    if (exact) return exact;
    const all = [...this.records.values()];
    const byName = all.find((c) => c.name === idOrName || `/${c.name}` === idOrName);
    if (byName) return byName;
    const byPrefix = idOrName.length >= 3 ? all.filter((c) => c.id.startsWith(idOrName)) : [];
    if (byPrefix.length === 1 && byPrefix[0]) return byPrefix[0];
    if (byPrefix.length > 1) throw new BerthError('invalid_argument', `container id prefix ${idOrName} is ambiguous`);
    throw new BerthError('not_found', `no such container: ${idOrName}`);
  }

  async inspect(idOrName: string): Promise<ContainerRecord> {
    return this.refresh(this.find(idOrName));
  }

  async list(filters: ListFilters = {}): Promise<readonly ContainerRecord[]> {
    const all = await Promise.all([...this.records.values()].map((c) => this.refresh(c)));
    return all
      .filter((c) => filters.all || c.state.status === 'running')
      .filter((c) => !filters.status?.length || filters.status.includes(c.state.status))
      .filter((c) => !filters.name?.length || filters.name.some((n) => c.name.includes(n.replace(/^\//, ''))))
      .filter((c) => !filters.id?.length || filters.id.some((i) => c.id.startsWith(i)))
      .filter((c) => !filters.ancestor?.length || filters.ancestor.some((a) => a === c.imageRef || a === c.imageId))
      .filter((c) =>
        (filters.label ?? []).every((l) => {
          const [k = '', v] = l.split('=');
          const have = c.request.labels?.[k];
          return have !== undefined && (v === undefined || have === v);
        }),
      )
      .sort((a, b) => b.created.localeCompare(a.created));
  }

  async create(request: ContainerCreateRequest, options: { signal?: AbortSignal } = {}): Promise<ContainerRecord> {
    const image = await this.deps.getImage(request.image);
    if (request.networkMode && !['none', 'host', 'bridge', 'default'].includes(request.networkMode)) {
      throw new BerthError('not_implemented', `network "${request.networkMode}" is not available yet (issue #5)`);
    }
    if (request.mounts?.some((m) => m.type === 'volume')) throw new BerthError('not_implemented', 'named volumes are not available yet (issue #5)');
    let name = request.name ?? `${pick(ADJECTIVES)}_${pick(NOUNS)}_${randomBytes(2).toString('hex')}`;
    name = name.replace(/^\//, '');
    if (!NAME.test(name)) throw new BerthError('invalid_argument', `invalid container name "${name}": use letters, digits, _, . and -`);
    if ([...this.records.values()].some((c) => c.name === name)) throw new BerthError('conflict', `the container name "${name}" is already in use`);
    const id = randomBytes(32).toString('hex');
    const dir = this.dir(id);
    const bundle = path.join(dir, 'bundle');
    const rootfs = path.join(bundle, 'rootfs');
    await mkdir(rootfs, { recursive: true });
    try {
      const top = image.layers[image.layers.length - 1]?.chainId;
      const mounts = await this.deps.snapshotter.prepare(`container-${id}`, top);
      await mountAll(mounts, rootfs, options);
      const user = await resolveUser(rootfs, request.user ?? image.config.config?.User);
      const hostname = request.hostname ?? id.slice(0, 12);
      const binds = (request.mounts ?? []).map((m) => {
        if (m.type === 'tmpfs') return { destination: m.target, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', ...(m.options ?? [])] };
        if (!m.source || !existsSync(m.source)) throw new BerthError('invalid_argument', `bind source ${m.source ?? '(none)'} does not exist`);
        return { destination: m.target, type: 'bind', source: m.source, options: ['rbind', m.readOnly ? 'ro' : 'rw'] };
      });
      const spec = buildRuntimeSpec({
        id,
        request,
        image: image.config.config ?? {},
        rootfs,
        user,
        hostname,
        cgroupsPath: `/berth/${id}`,
        mounts: binds,
        ...(request.networkMode === 'host' ? { netns: 'host' } : {}),
        nofileLimit: 20000,
        availableCapabilities: await this.hostCapabilities(),
      });
      await writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec));
      const record: ContainerRecord = {
        id,
        name,
        imageId: image.id,
        imageRef: request.image,
        created: now(),
        request,
        path: spec.process.args[0] ?? '',
        args: spec.process.args.slice(1),
        state: INITIAL,
        bundle,
        logPath: path.join(dir, 'stdout.log'),
        restartCount: 0,
      };
      await this.save(record);
      this.deps.events.emit({ type: 'container', action: 'create', id, attributes: { name, image: request.image, ...(request.labels ?? {}) } });
      return record;
    } catch (err) {
      await unmount(rootfs).catch(() => undefined);
      await this.deps.snapshotter.remove(`container-${id}`).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  start(idOrName: string): Promise<void> {
    const c = this.find(idOrName);
    return this.mutex.run(c.id, async () => {
      const record = await this.refresh(this.find(c.id));
      assertCanStart(record);
      const dir = this.dir(record.id);
      await rm(path.join(dir, 'exit'), { force: true });
      await run([this.deps.runtime, '--root', this.deps.runcRoot, 'delete', '--force', record.id]);
      const pidFile = path.join(dir, 'pid');
      await rm(pidFile, { force: true });
      const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
      const script = `${q(this.deps.runtime)} --root ${q(this.deps.runcRoot)} run --pid-file ${q(pidFile)} --bundle ${q(record.bundle)} ${record.id} </dev/null >>${q(path.join(dir, 'stdout.log'))} 2>>${q(path.join(dir, 'stderr.log'))}; echo $? > ${q(path.join(dir, 'exit.tmp'))} && mv ${q(path.join(dir, 'exit.tmp'))} ${q(path.join(dir, 'exit'))}`;
      const supervisor = spawn('/bin/sh', ['-c', script], { detached: true, stdio: 'ignore' });
      supervisor.unref();
      await writeFile(path.join(dir, 'supervisor.pid'), String(supervisor.pid ?? 0));
      // Running once runc wrote the pid; failed if it exited first.
      for (let i = 0; ; i++) {
        const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
        if (pid > 0) {
          await this.save(this.setState(record, { status: 'running', pid, startedAt: now(), finishedAt: '', exitCode: 0, error: '' }));
          this.deps.events.emit({ type: 'container', action: 'start', id: record.id, attributes: { name: record.name, ...(record.request.labels ?? {}) } });
          return;
        }
        const exit = await this.exitInfo(record.id);
        if (exit) {
          const stderr = (await readFile(path.join(dir, 'stderr.log'), 'utf8').catch(() => '')).trim().split('\n').slice(-3).join('\n');
          await this.save(this.setState(record, { status: 'exited', exitCode: exit.code === 1 ? 127 : exit.code, finishedAt: exit.at, error: stderr }));
          throw new BerthError('failed_precondition', `cannot start container ${record.name}: ${stderr || `exit code ${exit.code}`}`);
        }
        await new Promise((r) => setTimeout(r, i < 100 ? 2 : 20));
      }
    });
  }

  async wait(idOrName: string, options: { signal?: AbortSignal } = {}): Promise<{ exitCode: number }> {
    const c = this.find(idOrName);
    const file = path.join(this.dir(c.id), 'exit');
    for (;;) {
      options.signal?.throwIfAborted();
      const record = await this.refresh(this.find(c.id));
      if (record.state.status === 'exited' || record.state.status === 'dead') return { exitCode: record.state.exitCode };
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, 250);
        let watcher: ReturnType<typeof watch> | undefined;
        function done(): void {
          clearTimeout(timer);
          watcher?.close();
          resolve();
        }
        try {
          watcher = watch(path.dirname(file), (_e, name) => {
            if (name === 'exit') done();
          });
        } catch {
          /* the directory went away: the record says why */
        }
        options.signal?.addEventListener('abort', done, { once: true });
      });
    }
  }

  async kill(idOrName: string, signal = 'SIGKILL'): Promise<void> {
    const record = await this.inspect(idOrName);
    assertCanKill(record);
    const r = await run([this.deps.runtime, '--root', this.deps.runcRoot, 'kill', record.id, signal.replace(/^SIG/, '')]);
    if (r.code !== 0 && !/not running|does not exist/.test(r.stderr)) throw new BerthError('internal', `cannot signal ${record.name}: ${r.stderr.trim()}`);
    this.deps.events.emit({ type: 'container', action: 'kill', id: record.id, attributes: { name: record.name, signal } });
  }

  stop(idOrName: string, options: { timeout?: number } = {}): Promise<void> {
    const c = this.find(idOrName);
    return this.mutex.run(c.id, async () => {
      const record = await this.refresh(this.find(c.id));
      if (record.state.status !== 'running') return;
      const timeout = options.timeout ?? record.request.stopTimeout ?? 10;
      await this.kill(record.id, record.request.stopSignal ?? 'SIGTERM').catch(() => undefined);
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), timeout * 1000);
      try {
        await this.wait(record.id, { signal: controller.signal });
      } catch {
        await run([this.deps.runtime, '--root', this.deps.runcRoot, 'kill', '--all', record.id, 'KILL']);
        await this.wait(record.id);
      } finally {
        clearTimeout(timer);
      }
      this.deps.events.emit({ type: 'container', action: 'stop', id: record.id, attributes: { name: record.name } });
    });
  }

  async restart(idOrName: string, options: { timeout?: number } = {}): Promise<void> {
    await this.stop(idOrName, options);
    await this.start(idOrName);
    const record = this.find(idOrName);
    await this.save({ ...record, restartCount: record.restartCount + 1 });
  }

  private async removeNow(record: ContainerRecord, force: boolean): Promise<void> {
    assertCanRemove(record, force);
    await run([this.deps.runtime, '--root', this.deps.runcRoot, 'delete', '--force', record.id]);
    await unmount(path.join(record.bundle, 'rootfs'));
    await this.deps.snapshotter.remove(`container-${record.id}`).catch((err: unknown) => {
      if (!BerthError.is(err, 'not_found')) throw err;
    });
    await rm(this.dir(record.id), { recursive: true, force: true });
    this.records.delete(record.id);
    this.deps.events.emit({ type: 'container', action: 'destroy', id: record.id, attributes: { name: record.name, ...(record.request.labels ?? {}) } });
  }

  remove(idOrName: string, options: { force?: boolean } = {}): Promise<void> {
    const c = this.find(idOrName);
    return this.mutex.run(c.id, async () => {
      let record = await this.refresh(this.find(c.id));
      if (record.state.status === 'running' && options.force) {
        await run([this.deps.runtime, '--root', this.deps.runcRoot, 'kill', '--all', record.id, 'KILL']);
        await this.wait(record.id);
        record = this.find(c.id);
      }
      await this.removeNow(record, options.force === true);
    });
  }

  /** The container's output as lines: all of stdout then stderr (no interleaving yet), following while it runs. */
  async *logs(idOrName: string, options: { follow?: boolean; tail?: number; signal?: AbortSignal } = {}): AsyncGenerator<LogLine> {
    const record = this.find(idOrName);
    const dir = this.dir(record.id);
    const offsets = { stdout: 0, stderr: 0 };
    const partial = { stdout: '', stderr: '' };
    const readNew = async (stream: 'stdout' | 'stderr'): Promise<string[]> => {
      const fh = await open(path.join(dir, `${stream}.log`), 'r').catch(() => undefined);
      if (!fh) return [];
      try {
        const { size } = await fh.stat();
        if (size <= offsets[stream]) return [];
        const buf = Buffer.alloc(size - offsets[stream]);
        await fh.read(buf, 0, buf.length, offsets[stream]);
        offsets[stream] = size;
        const text = partial[stream] + buf.toString('utf8');
        const lines = text.split('\n');
        partial[stream] = lines.pop() ?? '';
        return lines;
      } finally {
        await fh.close();
      }
    };
    const emit = function* (stream: 'stdout' | 'stderr', lines: string[]): Generator<LogLine> {
      for (const line of lines) yield { stream, line, time: now() };
    };
    const initial = { stdout: await readNew('stdout'), stderr: await readNew('stderr') };
    if (options.tail !== undefined) {
      initial.stdout = options.tail === 0 ? [] : initial.stdout.slice(-options.tail);
      initial.stderr = options.tail === 0 ? [] : initial.stderr.slice(-options.tail);
    }
    yield* emit('stdout', initial.stdout);
    yield* emit('stderr', initial.stderr);
    if (!options.follow) return;
    for (;;) {
      if (options.signal?.aborted) return;
      const current = await this.refresh(this.find(record.id)).catch(() => undefined);
      yield* emit('stdout', await readNew('stdout'));
      yield* emit('stderr', await readNew('stderr'));
      if (!current || current.state.status !== 'running') {
        if (current?.state.status === 'created') {
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        for (const s of ['stdout', 'stderr'] as const) if (partial[s]) yield { stream: s, line: partial[s], time: now() };
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
