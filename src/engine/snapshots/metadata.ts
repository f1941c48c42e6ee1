/**
 * Snapshot bookkeeping shared by the snapshotters: one JSON file
 * (`metadata.json`, replaced atomically by write + rename) holding every
 * snapshot's record, changes run one at a time, and the error semantics of
 * containerd's snapshotters (not_found, already_exists, invalid_argument for
 * a parent that is not committed, failed_precondition for the wrong kind or
 * a snapshot with children). The file is read once; the daemon owns it and
 * keeps what it last read or wrote in memory (as text, parsed per caller).
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
  /** metadata.json as last read or written. */
  private text: string | undefined;
  /** Counts saves, so that a read that began before one does not keep what it read. */
  private saves = 0;

  constructor(readonly root: string) {
    this.file = path.join(root, 'metadata.json');
  }

  async read(): Promise<Metadata> {
    let text = this.text;
    if (text === undefined) {
      const saves = this.saves;
      try {
        text = await readFile(this.file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, nextId: 1, snapshots: {} };
        throw new BerthError('internal', `cannot read snapshot metadata ${this.file}`, { cause: err });
      }
      if (saves === this.saves) this.text = text;
    }
    try {
      const meta = JSON.parse(text) as Metadata;
      return { version: 1, nextId: meta.nextId, snapshots: meta.snapshots };
    } catch (err) {
      this.text = undefined;
      throw new BerthError('internal', `cannot read snapshot metadata ${this.file}`, { cause: err });
    }
  }

  private async save(meta: Metadata): Promise<void> {
    const text = JSON.stringify(meta);
    this.saves++;
    this.text = undefined;
    await mkdir(this.root, { recursive: true });
    const tmp = `${this.file}.tmp-${randomBytes(4).toString('hex')}`;
    await writeFile(tmp, text);
    await rename(tmp, this.file);
    this.text = text;
  }

  /**
   * Runs `fn` alone; when it returns `true` for `save`, the metadata it
   * changed is written before the result is returned.
   */
  exclusive<T>(fn: (meta: Metadata) => Promise<{ result: T; save: boolean }>): Promise<T> {
    const run = this.lock.then(async () => {
      const meta = await this.read();
      const { result, save } = await fn(meta);
      if (save) await this.save(meta);
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
