/**
 * The local image store: pulls images from registries into the content
 * store, unpacks them into snapshots, and keeps image records and tags.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BerthError, notYet } from '../../common/errors';
import type { Logger } from '../../common/log';
import type { Digest, ImageConfig, ImageIndex, ImageManifest } from '../../api/types/oci';
import { MEDIA_TYPES } from '../../api/types/oci';
import type { ImageRecord, ImageStore, LayerRecord, PullOptions, PullProgress } from '../../api/types/images';
import type { ContentStore } from '../content/store';
import type { RegistryClient } from '../registry/client';
import { chainIds, type LayerUnpacker } from '../snapshots/unpacker';
import { hostPlatform, selectManifest } from './platform';
import { canonicalReference, formatReference, parseReference, repositoryName, type ImageReference } from './reference';

const INDEX_TYPES = new Set<string>([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList]);
const LAYER_CONCURRENCY = 3;

async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, JSON.stringify(value, null, 1));
  await rename(tmp, file);
}

export interface ImageStoreDeps {
  readonly root: string;
  readonly content: ContentStore;
  readonly registry: RegistryClient;
  readonly unpacker: LayerUnpacker;
  readonly logger: Logger;
  /** True while a container uses the image (removal is refused). */
  readonly isInUse?: (id: Digest) => Promise<boolean>;
}

export class LocalImageStore implements ImageStore {
  private tagLock: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: ImageStoreDeps) {}

  private recordPath(id: Digest): string {
    return path.join(this.deps.root, 'images', `${id.slice(7)}.json`);
  }

  private async tags(): Promise<Record<string, Digest>> {
    try {
      return JSON.parse(await readFile(path.join(this.deps.root, 'tags.json'), 'utf8')) as Record<string, Digest>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw err;
    }
  }

  private updateTags<T>(fn: (tags: Record<string, Digest>) => T): Promise<T> {
    const run = this.tagLock.then(async () => {
      const tags = await this.tags();
      const result = fn(tags);
      await writeJsonAtomic(path.join(this.deps.root, 'tags.json'), tags);
      return result;
    });
    this.tagLock = run.catch(() => undefined);
    return run;
  }

  private async readRecord(id: Digest): Promise<ImageRecord | undefined> {
    try {
      return JSON.parse(await readFile(this.recordPath(id), 'utf8')) as ImageRecord;
    } catch {
      return undefined;
    }
  }

  private async withTags(record: ImageRecord): Promise<ImageRecord> {
    const tags = await this.tags();
    const repoTags = Object.entries(tags)
      .filter(([, id]) => id === record.id)
      .map(([name]) => formatReference(parseReference(name)));
    return { ...record, repoTags };
  }

  async pull(reference: string, options: PullOptions = {}): Promise<ImageRecord> {
    const ref = parseReference(reference);
    const { registry, content } = this.deps;
    const progress = (p: PullProgress): void => options.onProgress?.(p);
    const signal = options.signal ? { signal: options.signal } : {};
    const name = formatReference(ref);
    progress({ status: `Pulling from ${formatReference({ ...ref, tag: undefined, digest: undefined })}`, id: ref.tag ?? ref.digest ?? 'latest' });
    let manifest = await registry.getManifest(ref, ref.digest ?? ref.tag ?? 'latest', signal);
    const platform = options.platform ?? hostPlatform();
    if (INDEX_TYPES.has(manifest.mediaType)) {
      await content.put(manifest.body);
      const index = JSON.parse(manifest.body.toString('utf8')) as ImageIndex;
      const chosen = selectManifest(index.manifests, platform, name);
      manifest = await registry.getManifest(ref, chosen.digest, signal);
    }
    if (manifest.mediaType !== MEDIA_TYPES.ociManifest && manifest.mediaType !== MEDIA_TYPES.dockerManifest) {
      throw new BerthError('invalid_argument', `${name} has an unsupported manifest type ${manifest.mediaType}`);
    }
    await content.put(manifest.body);
    const parsed = JSON.parse(manifest.body.toString('utf8')) as ImageManifest;
    await registry.fetchBlob(ref, parsed.config.digest, parsed.config.size, content, signal);
    const config = JSON.parse((await content.read(parsed.config.digest)).toString('utf8')) as ImageConfig;
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== parsed.layers.length) {
      throw new BerthError('invalid_argument', `${name} is inconsistent: ${parsed.layers.length} layers but ${diffIds.length} diff ids`);
    }
    const chains = chainIds(diffIds);
    const layers: LayerRecord[] = parsed.layers.map((l, i) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size, diffId: diffIds[i] as Digest, chainId: chains[i] as Digest }));
    for (const l of layers) progress({ id: l.digest.slice(7, 19), status: 'Pulling fs layer' });
    const queue = [...layers];
    await Promise.all(
      Array.from({ length: Math.min(LAYER_CONCURRENCY, queue.length) }, async () => {
        for (let l = queue.shift(); l; l = queue.shift()) {
          const layer = l;
          const id = layer.digest.slice(7, 19);
          if (await content.has(layer.digest)) {
            progress({ id, status: 'Already exists' });
            continue;
          }
          await registry.fetchBlob(ref, layer.digest, layer.size, content, {
            ...signal,
            onBytes: (current, total) => progress({ id, status: 'Downloading', current, total }),
          });
          progress({ id, status: 'Download complete' });
        }
      }),
    );
    await this.deps.unpacker.ensureChain(layers, (d) => content.openRead(d), { ...signal, onProgress: progress });
    const id = parsed.config.digest;
    const previous = await this.readRecord(id);
    const repoDigest = `${repositoryName(ref)}@${manifest.digest}`;
    const record: ImageRecord = {
      id,
      repoTags: [],
      repoDigests: [...new Set([...(previous?.repoDigests ?? []), repoDigest])],
      manifestDigest: manifest.digest,
      config,
      layers,
      platform: { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) },
      size: layers.reduce((n, l) => n + l.size, 0),
      storedAt: previous?.storedAt ?? new Date().toISOString(),
    };
    await writeJsonAtomic(this.recordPath(id), record);
    if (ref.tag) await this.updateTags((tags) => void (tags[canonicalReference({ ...ref, digest: undefined })] = id));
    progress({ status: `Digest: ${manifest.digest}` });
    progress({ status: `Status: Downloaded newer image for ${name}` });
    return this.withTags(record);
  }

  push(reference: string): Promise<Digest> {
    return Promise.reject(notYet(`pushing ${reference}`, 3));
  }

  async tag(source: string, target: string): Promise<void> {
    const image = await this.get(source);
    const ref = parseReference(target);
    if (ref.digest) throw new BerthError('invalid_argument', `cannot tag with a digest: ${target}`);
    await this.updateTags((tags) => void (tags[canonicalReference(ref)] = image.id));
  }

  async get(nameOrId: string): Promise<ImageRecord> {
    const wanted = nameOrId.startsWith('sha256:') ? nameOrId.slice(7) : nameOrId;
    if (/^[a-f0-9]{12,64}$/.test(wanted)) {
      const files = (await readdir(path.join(this.deps.root, 'images')).catch(() => [] as string[])).filter((f) => f.startsWith(wanted) && f.endsWith('.json'));
      if (files.length > 1) throw new BerthError('invalid_argument', `image id prefix ${wanted} is ambiguous`);
      const record = files[0] ? await this.readRecord(`sha256:${files[0].slice(0, -5)}`) : undefined;
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
      const all = await this.list();
      id = all.find((i) => i.repoDigests.includes(`${repositoryName(ref)}@${ref.digest ?? ''}`))?.id;
    } else id = (await this.tags())[canonicalReference(ref)];
    const record = id ? await this.readRecord(id) : undefined;
    if (!record) throw new BerthError('not_found', `no such image: ${nameOrId}`);
    return this.withTags(record);
  }

  async list(): Promise<readonly ImageRecord[]> {
    const files = (await readdir(path.join(this.deps.root, 'images')).catch(() => [] as string[])).filter((f) => /^[a-f0-9]{64}\.json$/.test(f));
    const records = await Promise.all(files.map((f) => this.readRecord(`sha256:${f.slice(0, -5)}`)));
    return Promise.all(records.filter((r): r is ImageRecord => r !== undefined).map((r) => this.withTags(r)));
  }

  async remove(nameOrId: string, options: { force?: boolean } = {}): Promise<{ untagged: string[]; deleted: Digest[] }> {
    const image = await this.get(nameOrId);
    const byTag = !/^(sha256:)?[a-f0-9]{12,64}$/.test(nameOrId);
    const untagged: string[] = [];
    const remaining = await this.updateTags((tags) => {
      for (const [name, id] of Object.entries(tags)) {
        if (id !== image.id) continue;
        if (byTag && !options.force && name !== canonicalReference(parseReference(nameOrId))) continue;
        delete tags[name];
        untagged.push(formatReference(parseReference(name)));
      }
      return Object.values(tags).filter((id) => id === image.id).length;
    });
    if (remaining > 0) return { untagged, deleted: [] };
    if (!options.force && (await this.deps.isInUse?.(image.id))) {
      throw new BerthError('conflict', `image ${nameOrId} is used by a container; remove the container first or use force`);
    }
    await rm(this.recordPath(image.id), { force: true });
    return { untagged, deleted: [image.id] };
  }
}
