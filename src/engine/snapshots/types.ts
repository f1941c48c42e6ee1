/**
 * Snapshotters, after containerd's interface: committed read-only layers,
 * active writable snapshots on top, and the mounts that assemble them.
 */
export interface MountSpec {
  /** "overlay" or "bind" */
  readonly type: string;
  readonly source: string;
  readonly options: readonly string[];
  /** Mount from this directory: overlay lowerdirs are short relative links there. */
  readonly cwd?: string;
}

export type SnapshotKind = 'committed' | 'active' | 'view';

export interface SnapshotInfo {
  readonly key: string;
  readonly parent?: string;
  readonly kind: SnapshotKind;
  readonly createdAt: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface Snapshotter {
  /** "overlay" or "native" (plain copies). */
  readonly name: string;
  stat(key: string): Promise<SnapshotInfo>;
  /** A new writable snapshot on top of the committed `parent`; returns the mounts for its root. */
  prepare(key: string, parent?: string, options?: { labels?: Record<string, string>; signal?: AbortSignal }): Promise<readonly MountSpec[]>;
  /** A read-only view of the committed `parent`. */
  view(key: string, parent?: string, options?: { labels?: Record<string, string>; signal?: AbortSignal }): Promise<readonly MountSpec[]>;
  /** The mounts of an existing active or view snapshot. */
  mounts(key: string): Promise<readonly MountSpec[]>;
  /** Turns the active snapshot `key` into the committed snapshot `name`. */
  commit(name: string, key: string, options?: { labels?: Record<string, string> }): Promise<void>;
  /** Removes a snapshot; failed_precondition while it has children. */
  remove(key: string): Promise<void>;
  walk(fn: (info: SnapshotInfo) => void | Promise<void>): Promise<void>;
}
