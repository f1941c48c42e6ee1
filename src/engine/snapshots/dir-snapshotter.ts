/**
 * What the overlay and native snapshotters share: snapshots are numbered
 * directories under `<root>/snapshots/<id>` (each with `fs/`), recorded in
 * one metadata file (see metadata.ts). A crash can leave directories that
 * no record names; the first change after start removes them.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../../common/errors';
import type { ApplyMode } from './layer-writer';
import { type Metadata, SnapshotBook, type SnapshotRecord } from './metadata';
import type { MountSpec, SnapshotInfo, Snapshotter } from './types';

/** Where and how the unpacker applies a layer for an active snapshot. */
export interface ApplyTarget {
  readonly dir: string;
  readonly mode: ApplyMode;
  /** Overlay: the committed lower directories, top-most first. */
  readonly lowers: readonly string[];
}

/** A snapshotter the layer unpacker can write into directly. */
export interface LayerSnapshotter extends Snapshotter {
  applyTarget(key: string): Promise<ApplyTarget>;
}

type Labels = Readonly<Record<string, string>>;

export abstract class DirSnapshotter implements LayerSnapshotter {
  abstract readonly name: string;
  protected readonly book: SnapshotBook;
  private swept = false;

  constructor(readonly root: string) {
    this.book = new SnapshotBook(root);
  }

  protected dir(id: number): string {
    return path.join(this.root, 'snapshots', String(id));
  }

  protected fsDir(id: number): string {
    return path.join(this.dir(id), 'fs');
  }

  /** The mounts of an active or view snapshot. */
  protected abstract mountsFor(meta: Metadata, r: SnapshotRecord): MountSpec[];
  /** Creates the directories of a new snapshot (under the metadata lock, before it is saved). */
  protected abstract create(meta: Metadata, r: SnapshotRecord): Promise<void>;
  /** Fills a new snapshot after it is saved, outside the lock (native copies); failure removes it. */
  protected fill(_meta: Metadata, _r: SnapshotRecord, _signal?: AbortSignal): Promise<void> {
    return Promise.resolve();
  }
  /** A short link name for a new snapshot, if the implementation uses them. */
  protected newLink(): string | undefined {
    return undefined;
  }
  /** Removes what a removed snapshot left besides its directory. */
  protected removed(_r: SnapshotRecord): Promise<void> {
    return Promise.resolve();
  }
  /** Removes leftovers that no record names (besides snapshot directories). */
  protected sweepExtra(_meta: Metadata): Promise<void> {
    return Promise.resolve();
  }
  abstract applyTarget(key: string): Promise<ApplyTarget>;

  protected mutate<T>(fn: (meta: Metadata) => Promise<{ result: T; save: boolean }>): Promise<T> {
    return this.book.exclusive(async (meta) => {
      if (!this.swept) {
        this.swept = true;
        await this.sweep(meta);
      }
      return fn(meta);
    });
  }

  private async sweep(meta: Metadata): Promise<void> {
    const ids = new Set(Object.values(meta.snapshots).map((r) => String(r.id)));
    await mkdir(path.join(this.root, 'snapshots'), { recursive: true });
    for (const name of await readdir(path.join(this.root, 'snapshots'))) {
      if (!ids.has(name)) await rm(path.join(this.root, 'snapshots', name), { recursive: true, force: true });
    }
    await this.sweepExtra(meta);
  }

  private async make(kind: 'active' | 'view', key: string, parent: string | undefined, options: { labels?: Labels; signal?: AbortSignal }): Promise<readonly MountSpec[]> {
    options.signal?.throwIfAborted();
    const { meta, record } = await this.mutate(async (meta) => {
      const record = SnapshotBook.newRecord(meta, kind, key, parent, options.labels, this.newLink());
      this.mountsFor(meta, record); // refuses chains too deep to mount before anything is made
      await this.create(meta, record);
      meta.snapshots[key] = record;
      return { result: { meta, record }, save: true };
    });
    try {
      await this.fill(meta, record, options.signal);
    } catch (err) {
      await this.remove(key).catch(() => undefined);
      throw err;
    }
    return this.mountsFor(meta, record);
  }

  prepare(key: string, parent?: string, options: { labels?: Labels; signal?: AbortSignal } = {}): Promise<readonly MountSpec[]> {
    return this.make('active', key, parent, options);
  }

  view(key: string, parent?: string, options: { labels?: Labels; signal?: AbortSignal } = {}): Promise<readonly MountSpec[]> {
    return this.make('view', key, parent, options);
  }

  async mounts(key: string): Promise<readonly MountSpec[]> {
    const meta = await this.book.read();
    const r = SnapshotBook.get(meta, key);
    if (r.kind === 'committed') throw new BerthError('failed_precondition', `snapshot ${key} is committed; prepare or view on it to mount it`, { details: { key } });
    return this.mountsFor(meta, r);
  }

  async commit(name: string, key: string, options: { labels?: Labels } = {}): Promise<void> {
    await this.mutate((meta) => Promise.resolve({ result: SnapshotBook.commitRecord(meta, name, key, options.labels), save: true }));
  }

  async remove(key: string): Promise<void> {
    const r = await this.mutate((meta) => Promise.resolve({ result: SnapshotBook.removeRecord(meta, key), save: true }));
    await this.removed(r);
    await rm(this.dir(r.id), { recursive: true, force: true });
  }

  async stat(key: string): Promise<SnapshotInfo> {
    return SnapshotBook.info(SnapshotBook.get(await this.book.read(), key));
  }

  async walk(fn: (info: SnapshotInfo) => void | Promise<void>): Promise<void> {
    const meta = await this.book.read();
    for (const r of Object.values(meta.snapshots)) await fn(SnapshotBook.info(r));
  }

  /** The record of active snapshot `key` and the metadata it was read from. */
  protected async active(key: string): Promise<{ meta: Metadata; r: SnapshotRecord }> {
    const meta = await this.book.read();
    const r = SnapshotBook.get(meta, key);
    if (r.kind !== 'active') throw new BerthError('failed_precondition', `snapshot ${key} is not active`, { details: { key } });
    return { meta, r };
  }
}
