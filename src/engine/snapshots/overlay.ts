/**
 * The overlay snapshotter. Each snapshot is `<root>/snapshots/<id>/` with
 * `fs/` (its own content: a layer, or a container's writable upper) and
 * `work/`. Committed snapshots are the lower layers of their children.
 *
 * Short links: every snapshot has a link `<root>/l/<12 chars>` pointing at
 * `../snapshots/<id>/fs`, and overlay mounts name their lower layers as
 * `l/<link>` relative to `<root>`: the MountSpec carries `cwd: <root>`, and
 * whoever mounts must run `mount -t overlay overlay -o <options> <target>`
 * from that directory (mount.ts's mountAll does). A lower layer costs 15
 * bytes of the one-page (4096 bytes) option string, so chains of about 250
 * layers fit (the kernel stacks at most 500).
 *
 * A snapshot without parent mounts as a bind of its `fs/`; a view on a single
 * layer as a read-only bind of that layer (overlay needs two lower layers
 * when it has no upper).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readlink, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../../common/errors';
import { type ApplyTarget, DirSnapshotter } from './dir-snapshotter';
import { type Metadata, SnapshotBook, type SnapshotRecord } from './metadata';
import type { MountSpec } from './types';

/** The kernel's limit on mount options (one page). */
const MAX_OPTIONS = 4095;
/** The kernel's limit on stacked lower layers. */
const MAX_LOWERS = 500;
const LINK_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export class OverlaySnapshotter extends DirSnapshotter {
  readonly name = 'overlay';

  protected override newLink(): string {
    const bytes = randomBytes(12);
    return Array.from(bytes, (b) => LINK_CHARS[b % LINK_CHARS.length]).join('');
  }

  private linkOf(r: SnapshotRecord): string {
    if (!r.link) throw new BerthError('internal', `snapshot ${r.key} has no short link`);
    return r.link;
  }

  protected override mountsFor(meta: Metadata, r: SnapshotRecord): MountSpec[] {
    const lowers = SnapshotBook.chain(meta, r.parent);
    if (lowers.length > MAX_LOWERS) throw new BerthError('failed_precondition', `snapshot chain of ${lowers.length} layers is deeper than overlayfs allows (${MAX_LOWERS})`);
    const lowerdir = `lowerdir=${lowers.map((l) => `l/${this.linkOf(l)}`).join(':')}`;
    const first = lowers[0];
    let mounts: MountSpec[];
    if (r.kind === 'view') {
      if (!first) mounts = [{ type: 'bind', source: this.fsDir(r.id), options: ['rbind', 'ro'] }];
      else if (lowers.length === 1) mounts = [{ type: 'bind', source: this.fsDir(first.id), options: ['rbind', 'ro'] }];
      else mounts = [{ type: 'overlay', source: 'overlay', options: ['ro', lowerdir], cwd: this.root }];
    } else if (!first) {
      mounts = [{ type: 'bind', source: this.fsDir(r.id), options: ['rbind', 'rw'] }];
    } else {
      const options = [lowerdir, `upperdir=${this.fsDir(r.id)}`, `workdir=${path.join(this.dir(r.id), 'work')}`];
      mounts = [{ type: 'overlay', source: 'overlay', options, cwd: this.root }];
    }
    const length = mounts[0]?.options.join(',').length ?? 0;
    if (length > MAX_OPTIONS) throw new BerthError('failed_precondition', `the mount options of a ${lowers.length}-layer chain take ${length} bytes, more than the kernel's ${MAX_OPTIONS}`);
    return mounts;
  }

  protected override async create(_meta: Metadata, r: SnapshotRecord): Promise<void> {
    const dir = this.dir(r.id);
    await rm(dir, { recursive: true, force: true }); // left by a crash before the record was saved
    await mkdir(path.join(dir, 'fs'), { recursive: true, mode: 0o755 });
    await mkdir(path.join(dir, 'work'), { mode: 0o700 });
    await mkdir(path.join(this.root, 'l'), { recursive: true, mode: 0o700 });
    await symlink(path.join('..', 'snapshots', String(r.id), 'fs'), path.join(this.root, 'l', this.linkOf(r)));
  }

  protected override async removed(r: SnapshotRecord): Promise<void> {
    if (r.link) await rm(path.join(this.root, 'l', r.link), { force: true });
  }

  protected override async sweepExtra(meta: Metadata): Promise<void> {
    const links = new Set(Object.values(meta.snapshots).map((r) => r.link));
    const dir = path.join(this.root, 'l');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    for (const name of await readdir(dir)) {
      if (!links.has(name)) await rm(path.join(dir, name), { force: true });
    }
  }

  async applyTarget(key: string): Promise<ApplyTarget> {
    const { meta, r } = await this.active(key);
    const lowers = SnapshotBook.chain(meta, r.parent).map((l) => this.fsDir(l.id));
    return { dir: this.fsDir(r.id), mode: 'overlay', lowers };
  }

  /** The directory a short link names (for tests and diagnostics). */
  async resolveLink(link: string): Promise<string> {
    return path.resolve(this.root, 'l', await readlink(path.join(this.root, 'l', link)));
  }
}
