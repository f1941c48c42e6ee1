/**
 * Container records: one directory per container under the root, holding
 * config.v2.json (the record, written atomically), the bundle, the log and
 * the shim's files. Names are unique; absent names are generated.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ContainerRecord } from '../../api/types/containers';
import { BerthError } from '../../common/errors';

const RECORD = 'config.v2.json';
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const ADJECTIVES = ['brave', 'calm', 'eager', 'fond', 'keen', 'lucid', 'merry', 'noble', 'quiet', 'swift', 'tidy', 'warm', 'bold', 'crisp', 'deft', 'glad'];
const NOUNS = ['anchor', 'bay', 'cove', 'dock', 'ferry', 'harbor', 'jetty', 'keel', 'mast', 'pier', 'quay', 'wharf', 'buoy', 'hull', 'tide', 'sail'];

export function generateName(taken: (name: string) => boolean): string {
  for (;;) {
    const [a = 0, b = 0] = randomBytes(2);
    const name = `${ADJECTIVES[a % ADJECTIVES.length] ?? 'calm'}_${NOUNS[b % NOUNS.length] ?? 'bay'}`;
    const candidate = taken(name) ? `${name}_${randomBytes(2).toString('hex')}` : name;
    if (!taken(candidate)) return candidate;
  }
}

export class ContainerStore {
  private readonly records = new Map<string, ContainerRecord>();
  /** Names reserved by creations in progress. */
  private readonly reserved = new Set<string>();
  private readonly writes = new Map<string, Promise<void>>();

  constructor(readonly root: string) {}

  dir(id: string): string {
    return path.join(this.root, id);
  }

  /** Loads every record from disk (once, at startup). */
  async load(): Promise<readonly ContainerRecord[]> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    for (const id of await readdir(this.root)) {
      const text = await readFile(path.join(this.dir(id), RECORD), 'utf8').catch(() => undefined);
      if (text === undefined) continue;
      try {
        const record = JSON.parse(text) as ContainerRecord;
        if (record.id === id) this.records.set(id, record);
      } catch {
        /* a torn record cannot happen with atomic writes; skip anything else */
      }
    }
    return this.all();
  }

  all(): ContainerRecord[] {
    return [...this.records.values()];
  }

  get(id: string): ContainerRecord | undefined {
    return this.records.get(id);
  }

  /** By full id, name (with or without "/"), or unique id prefix. */
  find(idOrName: string): ContainerRecord {
    const exact = this.records.get(idOrName);
    if (exact) return exact;
    const name = idOrName.replace(/^\//, '');
    const all = this.all();
    const byName = all.find((c) => c.name === name);
    if (byName) return byName;
    const byPrefix = /^[0-9a-f]{1,64}$/.test(idOrName) ? all.filter((c) => c.id.startsWith(idOrName)) : [];
    if (byPrefix.length === 1 && byPrefix[0]) return byPrefix[0];
    if (byPrefix.length > 1) throw new BerthError('invalid_argument', `container id prefix ${idOrName} is ambiguous`);
    throw new BerthError('not_found', `no such container: ${idOrName}`);
  }

  /** Reserves a unique name (generated when absent); release it with releaseName unless the record is saved. */
  reserveName(requested: string | undefined): string {
    const taken = (n: string): boolean => this.reserved.has(n) || this.all().some((c) => c.name === n);
    if (requested === undefined || requested === '') {
      const name = generateName(taken);
      this.reserved.add(name);
      return name;
    }
    const name = requested.replace(/^\//, '');
    if (!NAME.test(name) || name.length > 128) throw new BerthError('invalid_argument', `invalid container name "${requested}": use letters, digits, _, . and -`);
    if (taken(name)) throw new BerthError('already_exists', `the container name "${name}" is already in use`);
    this.reserved.add(name);
    return name;
  }

  releaseName(name: string): void {
    this.reserved.delete(name);
  }

  /** Sets the record in memory at once and writes it to disk atomically, in order per container. */
  save(record: ContainerRecord): Promise<void> {
    this.records.set(record.id, record);
    this.reserved.delete(record.name);
    const prev = this.writes.get(record.id) ?? Promise.resolve();
    const next = prev.then(async () => {
      const latest = this.records.get(record.id);
      if (!latest) return;
      const file = path.join(this.dir(record.id), RECORD);
      const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(tmp, JSON.stringify(latest, null, 1));
      await rename(tmp, file);
    });
    const tail = next.catch(() => undefined);
    this.writes.set(record.id, tail);
    void tail.then(() => {
      if (this.writes.get(record.id) === tail) this.writes.delete(record.id);
    });
    return next;
  }

  /** Forgets the record and removes its directory. */
  async delete(id: string): Promise<void> {
    this.records.delete(id);
    await (this.writes.get(id) ?? Promise.resolve());
    await rm(this.dir(id), { recursive: true, force: true });
  }
}
