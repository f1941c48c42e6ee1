/**
 * The overlay snapshotter. Each snapshot is a numbered directory with `fs/`
 * (its content: a layer, or a container's writable upper) and `work/`.
 * Lower layers are named in mount options through short links in `l/`,
 * relative to the snapshotter root, so chains of hundreds of layers fit in
 * the one-page limit of mount options. Metadata is one JSON file, written
 * atomically.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../../common/errors';
import type { MountSpec, SnapshotInfo, SnapshotKind, Snapshotter } from './types';

interface SnapshotRecord {
  readonly id: number;
  readonly key: string;
  readonly parent?: string;
  readonly kind: SnapshotKind;
  readonly createdAt: string;
  readonly labels: { readonly [k: string]: string };
  readonly link: string;
}

interface Metadata {
  nextId: number;
  snapshots: { [key: string]: SnapshotRecord };
}

export class OverlaySnapshotter implements Snapshotter {
  readonly name = 'overlay';
  private lock: Promise<unknown> = Promise.resolve();

  constructor(readonly root: string) {}

  private async load(): Promise<Metadata> {
    try {
      return JSON.parse(await readFile(path.join(this.root, 'metadata.json'), 'utf8')) as Metadata;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { nextId: 1, snapshots: {} };
      throw err;
    }
  }

  private async save(meta: Metadata): Promise<void> {
    const file = path.join(this.root, 'metadata.json');
    const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
    await writeFile(tmp, JSON.stringify(meta));
    await rename(tmp, file);
  }

  /** Runs metadata changes one at a time. */
  private exclusive<T>(fn: (meta: Metadata) => Promise<T>): Promise<T> {
    const run = this.lock.then(async () => fn(await this.load()));
    this.lock = run.catch(() => undefined);
    return run;
  }

  private dir(id: number): string {
    return path.join(this.root, 'snapshots', String(id));
  }

  private info(r: SnapshotRecord): SnapshotInfo {
    return { key: r.key, ...(r.parent ? { parent: r.parent } : {}), kind: r.kind, createdAt: r.createdAt, labels: r.labels };
  }

  private get(meta: Metadata, key: string): SnapshotRecord {
    const r = meta.snapshots[key];
    if (!r) throw new BerthError('not_found', `snapshot ${key} not found`);
    return r;
  }

  /** Short links of the committed chain ending at `parent`, top-most first. */
  private chain(meta: Metadata, parent: string | undefined): string[] {
    const links: string[] = [];
    for (let key = parent; key; key = meta.snapshots[key]?.parent) {
      const r = this.get(meta, key);
      if (r.kind !== 'committed') throw new BerthError('failed_precondition', `snapshot ${key} is not committed`);
      links.push(path.join('l', r.link));
    }
    return links;
  }

  private mountsFor(meta: Metadata, r: SnapshotRecord): MountSpec[] {
    const lowers = this.chain(meta, r.parent);
    const fs = path.join(this.dir(r.id), 'fs');
    if (r.kind === 'view') {
      if (lowers.length === 0) return [{ type: 'bind', source: fs, options: ['rbind', 'ro'] }];
      if (lowers.length === 1) return [{ type: 'bind', source: path.join(this.root, lowers[0] ?? ''), options: ['rbind', 'ro'] }];
      return [{ type: 'overlay', source: 'overlay', options: [`lowerdir=${lowers.join(':')}`], cwd: this.root }];
    }
    if (lowers.length === 0) return [{ type: 'bind', source: fs, options: ['rbind', 'rw'] }];
    return [
      {
        type: 'overlay',
        source: 'overlay',
        options: [`lowerdir=${lowers.join(':')}`, `upperdir=${fs}`, `workdir=${path.join(this.dir(r.id), 'work')}`],
        cwd: this.root,
      },
    ];
  }

  private create(kind: 'active' | 'view', key: string, parent: string | undefined, labels: { [k: string]: string } = {}): Promise<MountSpec[]> {
    return this.exclusive(async (meta) => {
      if (meta.snapshots[key]) throw new BerthError('already_exists', `snapshot ${key} already exists`);
      if (parent) this.chain(meta, parent);
      const id = meta.nextId++;
      const link = randomBytes(8).toString('hex').toUpperCase().slice(0, 12);
      await mkdir(path.join(this.dir(id), 'fs'), { recursive: true });
      await mkdir(path.join(this.dir(id), 'work'));
      await mkdir(path.join(this.root, 'l'), { recursive: true });
      await symlink(path.join('..', 'snapshots', String(id), 'fs'), path.join(this.root, 'l', link));
      const record: SnapshotRecord = { id, key, ...(parent ? { parent } : {}), kind, createdAt: new Date().toISOString(), labels, link };
      meta.snapshots[key] = record;
      await this.save(meta);
      return this.mountsFor(meta, record);
    });
  }

  prepare(key: string, parent?: string, options: { labels?: SnapshotRecord['labels'] } = {}): Promise<readonly MountSpec[]> {
    return this.create('active', key, parent, options.labels);
  }

  view(key: string, parent?: string, options: { labels?: SnapshotRecord['labels'] } = {}): Promise<readonly MountSpec[]> {
    return this.create('view', key, parent, options.labels);
  }

  async mounts(key: string): Promise<readonly MountSpec[]> {
    const meta = await this.load();
    return this.mountsFor(meta, this.get(meta, key));
  }

  /** The directory holding an active snapshot's own content (a layer is applied here). */
  async upperDir(key: string): Promise<string> {
    const meta = await this.load();
    return path.join(this.dir(this.get(meta, key).id), 'fs');
  }

  commit(name: string, key: string, options: { labels?: SnapshotRecord['labels'] } = {}): Promise<void> {
    return this.exclusive(async (meta) => {
      const r = this.get(meta, key);
      if (r.kind !== 'active') throw new BerthError('failed_precondition', `snapshot ${key} is not active`);
      if (meta.snapshots[name]) throw new BerthError('already_exists', `snapshot ${name} already exists`);
      delete meta.snapshots[key];
      meta.snapshots[name] = { ...r, key: name, kind: 'committed', labels: { ...r.labels, ...options.labels } };
      await rm(path.join(this.dir(r.id), 'work'), { recursive: true, force: true });
      await this.save(meta);
    });
  }

  remove(key: string): Promise<void> {
    return this.exclusive(async (meta) => {
      const r = this.get(meta, key);
      const child = Object.values(meta.snapshots).find((s) => s.parent === key);
      if (child) throw new BerthError('failed_precondition', `snapshot ${key} has a child (${child.key}); remove that first`);
      delete meta.snapshots[key];
      await this.save(meta);
      await rm(path.join(this.root, 'l', r.link), { force: true });
      await rm(this.dir(r.id), { recursive: true, force: true });
    });
  }

  async stat(key: string): Promise<SnapshotInfo> {
    const meta = await this.load();
    return this.info(this.get(meta, key));
  }

  async walk(fn: (info: SnapshotInfo) => void | Promise<void>): Promise<void> {
    const meta = await this.load();
    for (const r of Object.values(meta.snapshots)) await fn(this.info(r));
  }
}
