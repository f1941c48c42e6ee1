/** What a COPY or ADD reads, made before its cache lookup; here-documents as files; --chown owners. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { resolveUser } from '../oci/user';
import type { BuildState } from './build-state';
import { matchSources, plainRoot, type Source, type SourceRoot } from './context';

/** Here-documents of a COPY as files (mode 0644) in a scratch directory. */
export async function withInlineFiles<T>(files: readonly { name: string; content: string }[], fn: (root: SourceRoot, sources: Source[]) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-heredoc-'));
  try {
    for (const f of files) await writeFile(path.join(dir, path.basename(f.name)), f.content, { mode: 0o644 });
    const root = plainRoot(dir);
    const sources = (await Promise.all(files.map((f) => matchSources(root, path.basename(f.name))))).flat();
    return await fn(root, sources);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface CopyPlan {
  readonly from:
    | { readonly kind: 'context'; readonly root: SourceRoot }
    | { readonly kind: 'state'; readonly state: BuildState }
    | { readonly kind: 'inline'; readonly files: readonly { name: string; content: string }[] };
  readonly sources: readonly Source[];
  readonly patterns: readonly string[];
  readonly dest: string;
  readonly content: string;
  /** ADD extracts local archives unless this says otherwise (downloads). */
  readonly extract?: boolean;
  /** ADD's downloads, in the order of its URL patterns (a plan that reads a stage places them among that stage's matches). */
  readonly downloads?: readonly Source[];
  /** Removes what the plan made (downloads). */
  readonly release?: () => Promise<void>;
}

/** --chown=user[:group] against the destination's passwd and group files (a lone user is also the group, as Docker does). */
export async function ownerIn(rootfs: string, spec: string): Promise<{ uid: number; gid: number }> {
  const [user = '', group] = spec.split(':');
  try {
    const u = await resolveUser(rootfs, `${user}:${group ?? user}`);
    return { uid: u.uid, gid: u.gid };
  } catch (err) {
    if (group !== undefined) throw err;
    const u = await resolveUser(rootfs, user);
    return { uid: u.uid, gid: /^\d+$/.test(user) ? u.uid : u.gid };
  }
}
