/**
 * The plain-copy snapshotter, for filesystems without overlayfs. Each
 * snapshot is `<root>/snapshots/<id>/fs/`, a full tree: `prepare` copies its
 * parent's tree with `cp -a --preserve=all` (owners, modes, times, xattrs,
 * hard links, symbolic links and special files; reflinks where the
 * filesystem has them), and every mount is a bind. A view shares its
 * parent's tree read-only (the parent cannot be removed while it has the
 * view as a child).
 */
import { mkdir, rm } from 'node:fs/promises';
import { runChecked } from '../../common/process/spawn';
import { type ApplyTarget, DirSnapshotter } from './dir-snapshotter';
import { type Metadata, SnapshotBook, type SnapshotRecord } from './metadata';
import type { MountSpec } from './types';

export class NativeSnapshotter extends DirSnapshotter {
  readonly name = 'native';

  protected override mountsFor(meta: Metadata, r: SnapshotRecord): MountSpec[] {
    if (r.kind === 'view') {
      const parent = r.parent === undefined ? undefined : SnapshotBook.get(meta, r.parent);
      return [{ type: 'bind', source: this.fsDir(parent ? parent.id : r.id), options: ['rbind', 'ro'] }];
    }
    return [{ type: 'bind', source: this.fsDir(r.id), options: ['rbind', 'rw'] }];
  }

  protected override async create(_meta: Metadata, r: SnapshotRecord): Promise<void> {
    const dir = this.dir(r.id);
    await rm(dir, { recursive: true, force: true }); // left by a crash before the record was saved
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (r.kind === 'view' || r.parent === undefined) await mkdir(this.fsDir(r.id), { mode: 0o755 });
  }

  protected override async fill(meta: Metadata, r: SnapshotRecord, signal?: AbortSignal): Promise<void> {
    if (r.kind !== 'active' || r.parent === undefined) return;
    const parent = SnapshotBook.get(meta, r.parent);
    const argv = ['cp', '-a', '--preserve=all', '--reflink=auto', '--no-target-directory', this.fsDir(parent.id), this.fsDir(r.id)];
    await runChecked(argv, signal ? { signal } : {});
  }

  async applyTarget(key: string): Promise<ApplyTarget> {
    const { r } = await this.active(key);
    return { dir: this.fsDir(r.id), mode: 'native', lowers: [] };
  }
}
