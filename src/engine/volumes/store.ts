/**
 * The volume store, local driver: each volume is <root>/<name>/_data with
 * its metadata beside it in volume.json (written to a temporary file and
 * renamed, so a volume either exists whole or not at all). Which containers
 * use a volume is never stored here: it is asked of the container records
 * (plus the creates in flight), so it cannot drift across a crash.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ANONYMOUS_LABEL, type VolumeCreateRequest, type VolumeListFilters, type VolumePruneFilters, type VolumePruneResult, type VolumeRecord } from '../../api/types/volumes';
import { BerthError } from '../../common/errors';
import type { Logger } from '../../common/log';
import { KeyedMutex } from '../containers/keyed-mutex';
import { anonymousVolumeName, validateVolumeName } from './names';
import { matchesLabels, volumeMatches } from './filters';

/** Volume name -> ids of the containers whose records mount it. */
export type VolumeUsage = () => Promise<ReadonlyMap<string, readonly string[]>>;

export interface VolumeStoreOptions {
  /** <dataRoot>/volumes */
  readonly root: string;
  readonly logger: Logger;
  readonly usage: VolumeUsage;
}

const LOCAL_OPTIONS = ['type', 'device', 'o', 'size'];
const META = 'volume.json';
const DATA = '_data';

function checkDriver(request: VolumeCreateRequest): void {
  const driver = request.driver || 'local';
  if (driver !== 'local') throw new BerthError('not_implemented', `volume driver "${driver}" is not supported (only "local")`);
  const keys = Object.keys(request.options ?? {});
  const unknown = keys.find((k) => !LOCAL_OPTIONS.includes(k));
  if (unknown !== undefined) throw new BerthError('invalid_argument', `invalid option key: "${unknown}"`);
  if (keys.length > 0) throw new BerthError('not_implemented', `the local driver's mount options (type, device, o, size) are not supported yet (issue #5)`);
}

const isValidName = (name: string): boolean => {
  try {
    validateVolumeName(name);
    return true;
  } catch {
    return false;
  }
};

async function diskUsage(dir: string, seen = new Set<string>()): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await diskUsage(full, seen);
    else if (entry.isFile()) {
      const st = await lstat(full).catch(() => undefined);
      if (!st || seen.has(`${st.dev}:${st.ino}`)) continue;
      seen.add(`${st.dev}:${st.ino}`);
      total += st.size;
    }
  }
  return total;
}

export class VolumeStore {
  private readonly mutex = new KeyedMutex();
  /** Creates in flight: holder (a container being created) -> the volumes it reserved. */
  private readonly pending = new Map<string, Set<string>>();

  constructor(private readonly options: VolumeStoreOptions) {}

  get root(): string {
    return this.options.root;
  }

  /** Creates the root and clears what a crash left: half-created volumes and half-removed ones. Call once, first. */
  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o701 });
    for (const name of await readdir(this.root)) {
      const dir = path.join(this.root, name);
      // A volume without metadata whose data is empty was cut short while being created; one with data is left alone.
      const halfMade = isValidName(name) && !existsSync(path.join(dir, META)) && (await readdir(path.join(dir, DATA)).catch(() => [])).length === 0;
      if (!name.startsWith('.trash-') && !halfMade) continue;
      this.options.logger.warn('removing a volume directory left half-made or half-removed by an earlier run', { dir });
      await rm(dir, { recursive: true, force: true });
    }
  }

  private dir(name: string): string {
    return path.join(this.root, validateVolumeName(name));
  }

  private async readMeta(name: string): Promise<VolumeRecord | undefined> {
    try {
      const meta = JSON.parse(await readFile(path.join(this.dir(name), META), 'utf8')) as VolumeRecord;
      return { ...meta, mountpoint: path.join(this.dir(name), DATA) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      if (err instanceof SyntaxError) return undefined;
      throw err;
    }
  }

  private async usedBy(): Promise<Map<string, string[]>> {
    const used = new Map<string, string[]>();
    for (const [name, ids] of await this.options.usage()) used.set(name, [...ids]);
    for (const [holder, names] of this.pending) for (const name of names) used.set(name, [...(used.get(name) ?? []), holder]);
    return used;
  }

  private async createLocked(name: string, request: VolumeCreateRequest): Promise<{ volume: VolumeRecord; created: boolean }> {
    const existing = await this.readMeta(name);
    if (existing) return { volume: existing, created: false };
    const dir = this.dir(name);
    if (existsSync(dir)) {
      const data = await readdir(path.join(dir, DATA)).catch(() => []);
      if (existsSync(path.join(dir, META)) || data.length > 0) throw new BerthError('conflict', `volume ${name} has no readable metadata; its data is left as it is in ${dir}`);
      await rm(dir, { recursive: true, force: true });
    }
    await mkdir(path.join(dir, DATA), { recursive: true, mode: 0o755 });
    const volume: VolumeRecord = {
      name,
      driver: 'local',
      mountpoint: path.join(dir, DATA),
      createdAt: new Date().toISOString(),
      labels: { ...(request.labels ?? {}) },
      options: { ...(request.options ?? {}) },
    };
    const tmp = path.join(dir, `.${META}.${randomBytes(4).toString('hex')}`);
    await writeFile(tmp, JSON.stringify(volume));
    await rename(tmp, path.join(dir, META));
    this.options.logger.info('volume created', { name });
    return { volume, created: true };
  }

  /** Creates a volume; an existing one of the same name is returned as it is (Docker does the same). */
  async create(request: VolumeCreateRequest = {}): Promise<VolumeRecord> {
    checkDriver(request);
    const anonymous = !request.name;
    const name = validateVolumeName(request.name || anonymousVolumeName());
    const labels = anonymous ? { ...(request.labels ?? {}), [ANONYMOUS_LABEL]: '' } : request.labels;
    return this.mutex.run(name, async () => (await this.createLocked(name, { ...request, ...(labels ? { labels } : {}) })).volume);
  }

  async inspect(name: string): Promise<VolumeRecord> {
    const volume = isValidName(name) ? await this.readMeta(name) : undefined;
    if (!volume) throw new BerthError('not_found', `get ${name}: no such volume`);
    return { ...volume, usedBy: (await this.usedBy()).get(name) ?? [] };
  }

  async list(filters: VolumeListFilters = {}): Promise<readonly VolumeRecord[]> {
    const used = await this.usedBy();
    const out: VolumeRecord[] = [];
    for (const name of (await readdir(this.root)).sort()) {
      if (!isValidName(name)) continue;
      const volume = await this.readMeta(name);
      if (!volume) continue;
      const record = { ...volume, usedBy: used.get(name) ?? [] };
      if (volumeMatches(record, filters)) out.push(record);
    }
    return out;
  }

  private async removeLocked(name: string, force: boolean): Promise<boolean> {
    if (!isValidName(name) || !(await this.readMeta(name))) {
      if (force) return false;
      throw new BerthError('not_found', `get ${name}: no such volume`);
    }
    const users = (await this.usedBy()).get(name) ?? [];
    if (users.length > 0) throw new BerthError('conflict', `remove ${name}: volume is in use - [${users.join(', ')}]`);
    // Out of sight first (a crash now leaves only a .trash- directory that init() clears).
    const trash = path.join(this.root, `.trash-${name}-${randomBytes(4).toString('hex')}`);
    await rename(this.dir(name), trash);
    await rm(trash, { recursive: true, force: true });
    this.options.logger.info('volume removed', { name });
    return true;
  }

  /** Removes a volume no container uses; `force` only ignores a missing one. */
  async remove(name: string, options: { force?: boolean } = {}): Promise<void> {
    await this.mutex.run(name, () => this.removeLocked(name, options.force === true));
  }

  /** Removes the unused volumes: anonymous ones only, unless `all`. */
  async prune(filters: VolumePruneFilters = {}): Promise<VolumePruneResult> {
    const deleted: string[] = [];
    let spaceReclaimed = 0;
    for (const volume of await this.list({ dangling: true })) {
      if (!filters.all && volume.labels[ANONYMOUS_LABEL] === undefined) continue;
      if (!matchesLabels(volume.labels, filters.label ?? [])) continue;
      if ((filters.labelNot ?? []).some((l) => matchesLabels(volume.labels, [l]))) continue;
      const size = await diskUsage(volume.mountpoint);
      const removed = await this.mutex
        .run(volume.name, () => this.removeLocked(volume.name, true))
        .catch((err: unknown) => {
          if (BerthError.is(err, 'conflict')) return false;
          throw err;
        });
      if (!removed) continue;
      deleted.push(volume.name);
      spaceReclaimed += size;
    }
    return { deleted, spaceReclaimed };
  }

  /**
   * For a container being created (`holder`): reserves the volume (creating
   * it when missing, anonymous when `name` is absent) so that nothing removes
   * it before the container's record exists; `populate` runs under the
   * volume's lock with the volume, to copy the image's content in.
   * release(holder) drops the reservations once the record is saved or the create failed.
   */
  async acquire(
    holder: string,
    name: string | undefined,
    options: { labels?: Readonly<Record<string, string>>; populate?: (volume: VolumeRecord) => Promise<void> } = {},
  ): Promise<{ volume: VolumeRecord; created: boolean; anonymous: boolean }> {
    const anonymous = !name;
    const volumeName = validateVolumeName(name || anonymousVolumeName());
    return this.mutex.run(volumeName, async () => {
      const reserved = this.pending.get(holder) ?? new Set<string>();
      reserved.add(volumeName);
      this.pending.set(holder, reserved);
      const labels = anonymous ? { ...(options.labels ?? {}), [ANONYMOUS_LABEL]: '' } : (options.labels ?? {});
      const { volume, created } = await this.createLocked(volumeName, { labels });
      await options.populate?.(volume);
      return { volume, created, anonymous };
    });
  }

  release(holder: string): void {
    this.pending.delete(holder);
  }
}
