/**
 * Snapshot bookkeeping shared by the snapshotters: one JSON file
 * (`metadata.json`, replaced atomically by write + rename) holding every
 * snapshot's record, changes run one at a time, and the error semantics of
 * containerd's snapshotters (not_found, already_exists, invalid_argument for
 * a parent that is not committed, failed_precondition for the wrong kind or
 * a snapshot with children). The file is read once; the daemon owns it and
 * keeps what it last read or wrote in memory.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../../common/errors';
import type { SnapshotInfo, SnapshotKind } from './types';

export interface SnapshotRecord {
  /** Names the snapshot's directory; never reused. */
  readonly id: number;
  readonly key: string;
  readonly parent?: string;
  readonly kind: SnapshotKind;
  readonly createdAt: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Overlay: the short link name in `l/`. */
  readonly link?: string;
}

export interface Metadata {
  version: 1;
  nextId: number;
  snapshots: Record<string, SnapshotRecord>;
}

export class SnapshotBook {
  private lock: Promise<unknown> = Promise.resolve();
  private readonly file: string;
  /**
   * The metadata as last read or written. It is never changed in place: a
   * change works on a draft (a new table of the same, unchanged, records)
   * that replaces it once saved, so what read() returned stays as it was.
   */
  private current: Metadata | undefined;
  /** Counts saves, so that a read that began before one does not keep what it read. */
  private saves = 0;

  constructor(readonly root: string) {
    this.file = path.join(root, 'metadata.json');
  }

  /** The metadata; treat it as read-only (exclusive() hands out what may be changed). */
  async read(): Promise<Metadata> {
    if (this.current) return this.current;
    const saves = this.saves;
    let meta: Metadata;
    try {
      const parsed = JSON.parse(await readFile(this.file, 'utf8')) as Metadata;
      meta = { version: 1, nextId: parsed.nextId, snapshots: parsed.snapshots };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, nextId: 1, snapshots: {} };
      throw new BerthError('internal', `cannot read snapshot metadata ${this.file}`, { cause: err });
    }
    if (saves === this.saves) this.current = meta;
    return meta;
  }

  private async save(meta: Metadata): Promise<void> {
    this.saves++;
    this.current = undefined;
    await mkdir(this.root, { recursive: true });
    const tmp = `${this.file}.tmp-${randomBytes(4).toString('hex')}`;
    await writeFile(tmp, JSON.stringify(meta));
    await rename(tmp, this.file);
    this.current = meta;
  }

  /**
   * Runs `fn` alone on a draft of the metadata; when it returns `true` for
   * `save`, the draft is written (and becomes the metadata) before the
   * result is returned. `fn` may add, replace and delete records in the
   * draft, never change a record itself.
   */
  exclusive<T>(fn: (meta: Metadata) => Promise<{ result: T; save: boolean }>): Promise<T> {
    const run = this.lock.then(async () => {
      const base = await this.read();
      const draft: Metadata = { version: 1, nextId: base.nextId, snapshots: { ...base.snapshots } };
      const { result, save } = await fn(draft);
      if (save) await this.save(draft);
      return result;
    });
    this.lock = run.catch(() => undefined);
    return run;
  }

  static get(meta: Metadata, key: string): SnapshotRecord {
    const r = meta.snapshots[key];
    if (!r) throw new BerthError('not_found', `snapshot ${key} not found`, { details: { key } });
    return r;
  }

  /** Checks a new snapshot can be made and returns its record (not yet saved). */
  static newRecord(meta: Metadata, kind: 'active' | 'view', key: string, parent: string | undefined, labels: Readonly<Record<string, string>> = {}, link?: string): SnapshotRecord {
    if (!key) throw new BerthError('invalid_argument', 'a snapshot key must not be empty');
    if (meta.snapshots[key]) throw new BerthError('already_exists', `snapshot ${key} already exists`, { details: { key } });
    if (parent !== undefined) {
      const p = SnapshotBook.get(meta, parent);
      if (p.kind !== 'committed') throw new BerthError('invalid_argument', `parent ${parent} is not a committed snapshot`, { details: { key: parent } });
    }
    const id = meta.nextId++;
    return { id, key, ...(parent !== undefined ? { parent } : {}), kind, createdAt: new Date().toISOString(), labels: { ...labels }, ...(link ? { link } : {}) };
  }

  /** Turns active `key` into committed `name` in `meta`; returns the new record. */
  static commitRecord(meta: Metadata, name: string, key: string, labels: Readonly<Record<string, string>> = {}): SnapshotRecord {
    const r = SnapshotBook.get(meta, key);
    if (r.kind !== 'active') throw new BerthError('failed_precondition', `snapshot ${key} is not active (it is ${r.kind})`, { details: { key } });
    if (!name) throw new BerthError('invalid_argument', 'a snapshot name must not be empty');
    if (meta.snapshots[name]) throw new BerthError('already_exists', `snapshot ${name} already exists`, { details: { key: name } });
    const committed: SnapshotRecord = { ...r, key: name, kind: 'committed', createdAt: new Date().toISOString(), labels: { ...r.labels, ...labels } };
    delete meta.snapshots[key];
    meta.snapshots[name] = committed;
    return committed;
  }

  /** Removes `key` from `meta`, refusing while it has children; returns the removed record. */
  static removeRecord(meta: Metadata, key: string): SnapshotRecord {
    const r = SnapshotBook.get(meta, key);
    const child = Object.values(meta.snapshots).find((s) => s.parent === key);
    if (child) throw new BerthError('failed_precondition', `snapshot ${key} has a child (${child.key}); remove that first`, { details: { key } });
    delete meta.snapshots[key];
    return r;
  }

  /** Committed ancestors of `parent`, nearest first (`parent` included). */
  static chain(meta: Metadata, parent: string | undefined): SnapshotRecord[] {
    const out: SnapshotRecord[] = [];
    for (let key = parent; key !== undefined; key = meta.snapshots[key]?.parent) {
      const r = SnapshotBook.get(meta, key);
      out.push(r);
      if (out.length > 10_000) throw new BerthError('internal', `snapshot chain of ${parent ?? ''} loops`);
    }
    return out;
  }

  static info(r: SnapshotRecord): SnapshotInfo {
    return { key: r.key, ...(r.parent !== undefined ? { parent: r.parent } : {}), kind: r.kind, createdAt: r.createdAt, labels: { ...r.labels } };
  }
}
