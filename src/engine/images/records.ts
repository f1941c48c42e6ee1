/**
 * Image records on disk: one JSON file per image under <root>/images/<hex>.json
 * and a tags index (<root>/tags.json, canonical reference -> image id), all
 * written atomically (temp file + rename); tag updates are serialized.
 * The daemon owns its data root: what it read or wrote is kept in memory
 * (as text, parsed for each caller) and the files are read once.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../../common/errors';
import type { Digest } from '../../api/types/oci';
import type { ImageRecord } from '../../api/types/images';
import { BoundedMap } from '../../common/bounded-map';
import { canonicalReference, formatReference, parseReference, repositoryName, type ImageReference } from './reference';

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeTextAtomic(file, JSON.stringify(value, null, 1));
}

async function writeTextAtomic(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

/** Records kept in memory (a record is a few KiB). */
const RECORDS_IN_MEMORY = 512;

export type Tags = Record<string, Digest>;

export class ImageRecords {
  private lock: Promise<unknown> = Promise.resolve();
  /** tags.json as last read or written. */
  private tagsText: string | undefined;
  /** Record files as last read or written ('' for none). */
  private readonly texts = new BoundedMap<Digest, string>(RECORDS_IN_MEMORY);
  /** Counts writes, so that a read that began before one does not keep what it read. */
  private writes = 0;

  constructor(private readonly root: string) {}

  private recordPath(id: Digest): string {
    return path.join(this.root, 'images', `${id.slice(7)}.json`);
  }

  /** Runs `fn` alone: record and tag updates never interleave. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  async tags(): Promise<Tags> {
    const text = this.tagsText ?? (await this.readKept(path.join(this.root, 'tags.json'), '{}', (t) => (this.tagsText = t)));
    return JSON.parse(text) as Tags;
  }

  /** A file's text (`missing` when there is none), handed to `keep` unless a write began meanwhile. */
  private async readKept(file: string, missing: string, keep: (text: string) => void): Promise<string> {
    const writes = this.writes;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      text = missing;
    }
    if (writes === this.writes) keep(text);
    return text;
  }

  /** Changes the tags index; call inside exclusive(). */
  async updateTags<T>(fn: (tags: Tags) => T): Promise<T> {
    const tags = await this.tags();
    const before = JSON.stringify(tags);
    const result = fn(tags);
    // Unchanged tags (a rebuild tagging the same image again) are not written again.
    if (JSON.stringify(tags) !== before) {
      const text = JSON.stringify(tags, null, 1);
      this.writes++;
      this.tagsText = undefined;
      await writeTextAtomic(path.join(this.root, 'tags.json'), text);
      this.tagsText = text;
    }
    return result;
  }

  async read(id: Digest): Promise<ImageRecord | undefined> {
    const text = this.texts.get(id) ?? (await this.readKept(this.recordPath(id), '', (t) => this.texts.set(id, t)));
    return text === '' ? undefined : (JSON.parse(text) as ImageRecord);
  }

  /** Stores the record (without tags: those live in the index). */
  async write(record: ImageRecord): Promise<void> {
    const text = JSON.stringify({ ...record, repoTags: [] }, null, 1);
    this.writes++;
    this.texts.delete(record.id);
    await writeTextAtomic(this.recordPath(record.id), text);
    this.texts.set(record.id, text);
  }

  async delete(id: Digest): Promise<void> {
    this.writes++;
    this.texts.delete(id);
    await rm(this.recordPath(id), { force: true });
    this.texts.set(id, '');
  }

  async ids(): Promise<Digest[]> {
    const files = await readdir(path.join(this.root, 'images')).catch(() => [] as string[]);
    return files.filter((f) => /^[a-f0-9]{64}\.json$/.test(f)).map((f): Digest => `sha256:${f.slice(0, -5)}`);
  }

  /** The record with its current tags (familiar form). */
  async withTags(record: ImageRecord, tags?: Tags): Promise<ImageRecord> {
    const all = tags ?? (await this.tags());
    const repoTags = Object.entries(all)
      .filter(([, id]) => id === record.id)
      .map(([name]) => formatReference(parseReference(name)))
      .sort();
    return { ...record, repoTags };
  }

  /** By id, id prefix (>= 12 hex chars), tag or digest reference. */
  async resolve(nameOrId: string): Promise<ImageRecord> {
    const wanted = nameOrId.startsWith('sha256:') ? nameOrId.slice(7) : nameOrId;
    if (/^[a-f0-9]{12,64}$/.test(wanted)) {
      const matches = (await this.ids()).filter((id) => id.slice(7).startsWith(wanted));
      if (matches.length > 1) throw new BerthError('invalid_argument', `image id prefix ${wanted} is ambiguous`);
      const record = matches[0] ? await this.read(matches[0]) : undefined;
      if (record) return this.withTags(record);
    }
    let ref: ImageReference;
    try {
      ref = parseReference(nameOrId);
    } catch {
      throw new BerthError('not_found', `no such image: ${nameOrId}`);
    }
    let id: Digest | undefined;
    if (ref.digest) {
      const repoDigest = `${repositoryName(ref)}@${ref.digest}`;
      for (const candidate of await this.ids()) {
        const r = await this.read(candidate);
        if (r?.repoDigests.includes(repoDigest)) id = r.id;
      }
    } else id = (await this.tags())[canonicalReference(ref)];
    const record = id ? await this.read(id) : undefined;
    if (!record) throw new BerthError('not_found', `no such image: ${nameOrId}`);
    return this.withTags(record);
  }
}
