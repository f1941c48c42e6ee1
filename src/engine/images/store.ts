/**
 * The local image store: pulls images from registries into the content
 * store, has them unpacked into snapshots, keeps image records and tags, and
 * pushes, imports, saves and loads images.
 */
import type { Readable, Writable } from 'node:stream';
import { BerthError } from '../../common/errors';
import type { Digest, ImageConfig, ImageManifest, ImageRuntimeConfig, Platform } from '../../api/types/oci';
import type { EngineEventAction } from '../../api/types/containers';
import type { ImageRecord, ImageStore, PullOptions, PullProgress } from '../../api/types/images';
import { loadArchive } from './archive-load';
import { saveImages } from './archive-save';
import type { ImageStoreDeps } from './deps';
import { importRootfs } from './import';
import { layerRecords, platformOf, pullImage } from './pull';
import { pushImage } from './push';
import { ImageRecords } from './records';
import { canonicalReference, formatReference, parseReference, repositoryName } from './reference';

export type { ImageStoreDeps, ImageUnpacker, LayerToUnpack } from './deps';

export class LocalImageStore implements ImageStore {
  private readonly records: ImageRecords;

  constructor(private readonly deps: ImageStoreDeps) {
    this.records = new ImageRecords(deps.root);
  }

  private event(action: EngineEventAction, id: string, name?: string): void {
    this.deps.events?.emit({ type: 'image', action, id, attributes: name ? { name } : {} });
  }

  /** Writes the record (merging repo digests with an earlier one) and points `tags` at it. */
  private async store(record: ImageRecord, tags: readonly string[]): Promise<ImageRecord> {
    return this.records.exclusive(async () => {
      const previous = await this.records.read(record.id);
      const merged: ImageRecord = {
        ...record,
        repoDigests: [...new Set([...(previous?.repoDigests ?? []), ...record.repoDigests])],
        storedAt: previous?.storedAt ?? record.storedAt,
      };
      // A record stored as it is already (a fully cached rebuild) is not written again.
      if (!previous || JSON.stringify({ ...merged, repoTags: [] }) !== JSON.stringify({ ...previous, repoTags: [] })) await this.records.write(merged);
      const all = await this.records.updateTags((t) => {
        for (const tag of tags) t[canonicalReference(parseReference(tag))] = record.id;
        return t;
      });
      return this.records.withTags(merged, all);
    });
  }

  /** Stores an image made here (a build), tagged with `tags`. */
  addImage(record: ImageRecord, tags: readonly string[]): Promise<ImageRecord> {
    const refs = tags.map((t) => parseReference(t));
    if (refs.some((r) => r.digest)) throw new BerthError('invalid_argument', `cannot tag with a digest: ${tags.join(', ')}`);
    return this.store(record, refs.map((r) => canonicalReference({ ...r, tag: r.tag ?? 'latest' })));
  }

  async pull(reference: string, options: PullOptions = {}): Promise<ImageRecord> {
    const ref = parseReference(reference);
    const record = await pullImage(this.deps, ref, options);
    const stored = await this.store(record, ref.tag ? [canonicalReference({ domain: ref.domain, path: ref.path, tag: ref.tag })] : []);
    options.onProgress?.({ status: `Status: Downloaded newer image for ${formatReference(ref)}` });
    this.event('pull', formatReference(ref), formatReference(ref));
    return stored;
  }

  async push(reference: string, options: { signal?: AbortSignal; onProgress?: (p: PullProgress) => void; chunkSize?: number } = {}): Promise<Digest> {
    const image = await this.get(reference);
    const ref = parseReference(reference);
    if (ref.digest && !ref.tag) throw new BerthError('invalid_argument', `push ${reference}: push a tag, not a digest`);
    const digest = await pushImage(this.deps, image, ref, options);
    await this.records.exclusive(async () => {
      const current = await this.records.read(image.id);
      if (current) await this.records.write({ ...current, repoDigests: [...new Set([...current.repoDigests, `${repositoryName(ref)}@${digest}`])] });
    });
    this.event('push', formatReference(ref), formatReference(ref));
    return digest;
  }

  async tag(source: string, target: string): Promise<void> {
    const image = await this.get(source);
    const ref = parseReference(target);
    if (ref.digest) throw new BerthError('invalid_argument', `cannot tag with a digest: ${target}`);
    await this.records.exclusive(() => this.records.updateTags((tags) => void (tags[canonicalReference(ref)] = image.id)));
    this.event('tag', image.id, formatReference(ref));
  }

  get(nameOrId: string): Promise<ImageRecord> {
    return this.records.resolve(nameOrId);
  }

  async list(): Promise<readonly ImageRecord[]> {
    const tags = await this.records.tags();
    const records = await Promise.all((await this.records.ids()).map((id) => this.records.read(id)));
    return Promise.all(records.filter((r): r is ImageRecord => r !== undefined).map((r) => this.records.withTags(r, tags)));
  }

  async remove(nameOrId: string, options: { force?: boolean } = {}): Promise<{ untagged: string[]; deleted: Digest[] }> {
    const image = await this.get(nameOrId);
    const removed = await this.removeRecord(image, nameOrId, options);
    for (const u of removed.untagged) this.event('untag', image.id, u);
    for (const d of removed.deleted) this.event('delete', d);
    return removed;
  }

  private async removeRecord(image: ImageRecord, nameOrId: string, options: { force?: boolean }): Promise<{ untagged: string[]; deleted: Digest[] }> {
    const byId = /^(sha256:)?[a-f0-9]{12,64}$/.test(nameOrId) && image.id.slice(7).startsWith(nameOrId.replace(/^sha256:/, ''));
    return this.records.exclusive(async () => {
      const tags = await this.records.tags();
      const mine = Object.keys(tags).filter((name) => tags[name] === image.id);
      // By id: every tag goes, and Docker refuses when there are several unless forced.
      if (byId && mine.length > 1 && !options.force) {
        throw new BerthError('conflict', `image ${nameOrId} is referenced by several tags (${mine.map((t) => formatReference(parseReference(t))).join(', ')}); remove them by name or use force`);
      }
      const ref = byId ? undefined : parseReference(nameOrId);
      const dropping = ref && !ref.digest ? mine.filter((t) => t === canonicalReference(ref)) : mine;
      const deleting = dropping.length === mine.length;
      if (deleting && !options.force && (await this.deps.isInUse?.(image.id))) {
        throw new BerthError('conflict', `image ${nameOrId} (${image.id.slice(7, 19)}) is used by a container; remove the container first or use force`);
      }
      await this.records.updateTags((t) => {
        for (const name of dropping) delete t[name];
      });
      const untagged = dropping.map((t) => formatReference(parseReference(t)));
      if (!deleting) return { untagged, deleted: [] };
      await this.records.delete(image.id);
      return { untagged, deleted: [image.id] };
    });
  }

  /**
   * `docker image prune`: untagged images (with `all`, every image) that no
   * container uses; `label` ("key" or "key=value") narrows to images with it.
   */
  async prune(options: { all?: boolean; label?: readonly string[] } = {}): Promise<{ untagged: string[]; deleted: Digest[]; spaceReclaimed: number }> {
    const out = { untagged: [] as string[], deleted: [] as Digest[], spaceReclaimed: 0 };
    for (const image of await this.list()) {
      if (!options.all && image.repoTags.length > 0) continue;
      const labels = image.config.config?.Labels ?? {};
      const labelled = (options.label ?? []).every((l) => {
        const eq = l.indexOf('=');
        return eq < 0 ? labels[l] !== undefined : labels[l.slice(0, eq)] === l.slice(eq + 1);
      });
      if (!labelled || (await this.deps.isInUse?.(image.id))) continue;
      const r = await this.remove(image.id, { force: true });
      out.untagged.push(...r.untagged);
      out.deleted.push(...r.deleted);
      if (r.deleted.length > 0) out.spaceReclaimed += image.size;
    }
    return out;
  }

  /** `docker import`: a rootfs tarball (file or stream) as a one-layer image, tagged `reference` if given. */
  async importImage(
    source: string | Readable,
    options: { reference?: string; platform?: Platform; config?: ImageRuntimeConfig; message?: string; signal?: AbortSignal } = {},
  ): Promise<ImageRecord> {
    const tag = options.reference ? parseReference(options.reference) : undefined;
    if (tag?.digest) throw new BerthError('invalid_argument', `cannot import as a digest reference: ${options.reference ?? ''}`);
    const record = await importRootfs(this.deps, source, options);
    const stored = await this.store(record, tag ? [canonicalReference(tag)] : []);
    this.event('import', stored.id, tag ? formatReference(tag) : undefined);
    return stored;
  }

  /** `docker save`: the images named (tags keep their names; ids save untagged) into one tar stream. */
  async save(names: readonly string[], out: Writable, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (names.length === 0) throw new BerthError('invalid_argument', 'save: name at least one image');
    const images = await Promise.all(
      names.map(async (name) => {
        const record = await this.get(name);
        const ref = /^(sha256:)?[a-f0-9]{12,64}$/.test(name) ? undefined : parseReference(name);
        return { record, tags: ref?.tag ? [canonicalReference({ domain: ref.domain, path: ref.path, tag: ref.tag })] : [] };
      }),
    );
    await saveImages(this.deps.content, images, out, options);
    for (const { record, tags } of images) this.event('save', record.id, tags[0] ? formatReference(parseReference(tags[0])) : undefined);
  }

  /** `docker load`: verifies, stores, unpacks and tags the images of a save/OCI archive. */
  async load(input: Readable, options: { signal?: AbortSignal; onProgress?: (p: PullProgress) => void } = {}): Promise<ImageRecord[]> {
    const loaded = await loadArchive(this.deps.content, input, options);
    const out: ImageRecord[] = [];
    for (const image of loaded) {
      const record = this.recordFor(image.manifestDigest, image.manifest, image.config);
      await this.deps.unpacker.ensureChain(record.layers, (d) => this.deps.content.openRead(d), options);
      const stored = await this.store(record, image.names);
      options.onProgress?.({ status: `Loaded image${image.names.length ? `: ${image.names.join(', ')}` : ` ID: ${record.id}`}` });
      this.event('load', stored.id, image.names[0]);
      out.push(stored);
    }
    return out;
  }

  private recordFor(manifestDigest: Digest, manifest: ImageManifest, config: ImageConfig): ImageRecord {
    const layers = layerRecords(manifest, config);
    return {
      id: manifest.config.digest,
      repoTags: [],
      repoDigests: [],
      manifestDigest,
      config,
      layers,
      platform: platformOf(config),
      size: layers.reduce((n, l) => n + l.size, 0),
      storedAt: new Date().toISOString(),
    };
  }
}
