/**
 * Pulling one image: resolve the reference (index -> platform manifest),
 * store manifest and config, fetch the layers a few at a time (resuming and
 * verifying each), then have them unpacked. Progress is Docker-style.
 */
import { BerthError } from '../../common/errors';
import type { Digest, ImageConfig, ImageIndex, ImageManifest, Platform } from '../../api/types/oci';
import { MEDIA_TYPES } from '../../api/types/oci';
import type { ImageRecord, LayerRecord, PullOptions, PullProgress } from '../../api/types/images';
import type { FetchedManifest } from '../registry/client';
import { chainIds } from './chain-id';
import type { ImageStoreDeps } from './deps';
import { formatPlatform, hostPlatform, selectManifest } from './platform';
import { formatReference, repositoryName, type ImageReference } from './reference';
import { eachLimited } from '../../common/each-limited';

const INDEX_TYPES = new Set<string>([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList]);
const MANIFEST_TYPES = new Set<string>([MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest]);
const PROGRESS_INTERVAL_MS = 100;

function kind(m: FetchedManifest): 'index' | 'manifest' | 'other' {
  if (INDEX_TYPES.has(m.mediaType)) return 'index';
  if (MANIFEST_TYPES.has(m.mediaType)) return 'manifest';
  if (m.mediaType) return 'other';
  const body = JSON.parse(m.body.toString('utf8')) as { manifests?: unknown; config?: unknown };
  return Array.isArray(body.manifests) ? 'index' : body.config ? 'manifest' : 'other';
}

/** Checks the parts of a config Berth relies on. */
export function checkConfig(config: ImageConfig, layerCount: number, what: string): void {
  const diffIds: unknown = config.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.some((d) => typeof d !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(d))) throw new BerthError('invalid_argument', `${what}: the image config has no valid rootfs.diff_ids`);
  if (diffIds.length !== layerCount) throw new BerthError('invalid_argument', `${what} is inconsistent: ${layerCount} layers but ${diffIds.length} diff ids`);
}

export function layerRecords(manifest: ImageManifest, config: ImageConfig): LayerRecord[] {
  const diffIds = config.rootfs.diff_ids;
  const chains = chainIds(diffIds);
  return manifest.layers.map((l, i) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size, diffId: diffIds[i] as Digest, chainId: chains[i] as Digest }));
}

export function platformOf(config: ImageConfig): Platform {
  return { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };
}

/** Fetches, verifies, stores and unpacks `ref`; returns its record (without tags). */
export async function pullImage(deps: ImageStoreDeps, ref: ImageReference, options: PullOptions = {}): Promise<ImageRecord> {
  const { registry, content } = deps;
  const name = formatReference(ref);
  const signal = options.signal ? { signal: options.signal } : {};
  const progress = (p: PullProgress): void => options.onProgress?.(p);
  progress({ status: `Pulling from ${formatReference({ domain: ref.domain, path: ref.path })}`, id: ref.tag ?? ref.digest ?? 'latest' });

  const top = await registry.getManifest(ref, ref.digest ?? ref.tag ?? 'latest', signal);
  let manifest = top;
  if (kind(top) === 'index') {
    await content.put(top.body);
    const index = JSON.parse(top.body.toString('utf8')) as ImageIndex;
    const chosen = selectManifest(index.manifests ?? [], options.platform ?? hostPlatform(), name);
    manifest = await registry.getManifest(ref, chosen.digest, signal);
    if (kind(manifest) !== 'manifest') throw new BerthError('invalid_argument', `${name}: the index entry for ${formatPlatform(options.platform ?? hostPlatform())} is not an image manifest (${manifest.mediaType})`);
  } else if (kind(top) !== 'manifest') {
    throw new BerthError('invalid_argument', `${name} has an unsupported manifest type ${top.mediaType}`);
  }
  await content.put(manifest.body);
  const parsed = JSON.parse(manifest.body.toString('utf8')) as ImageManifest;
  if (!parsed.config?.digest || !Array.isArray(parsed.layers)) throw new BerthError('invalid_argument', `${name}: malformed image manifest`);
  await registry.fetchBlob(ref, parsed.config.digest, parsed.config.size, content, signal);
  const config = await content.readJson<ImageConfig>(parsed.config.digest);
  checkConfig(config, parsed.layers.length, name);
  if (options.platform && (config.os !== options.platform.os || config.architecture !== options.platform.architecture)) {
    throw new BerthError('not_found', `${name} is ${formatPlatform(platformOf(config))}, not ${formatPlatform(options.platform)}`);
  }
  const layers = layerRecords(parsed, config);
  await fetchLayers(deps, ref, layers, progress, options.signal);
  await deps.unpacker.ensureChain(layers, (d) => content.openRead(d), { ...signal, onProgress: progress });
  progress({ status: `Digest: ${top.digest}` });
  return {
    id: parsed.config.digest,
    repoTags: [],
    repoDigests: [`${repositoryName(ref)}@${top.digest}`],
    manifestDigest: manifest.digest,
    config,
    layers,
    platform: platformOf(config),
    size: layers.reduce((n, l) => n + l.size, 0),
    storedAt: new Date().toISOString(),
  };
}

async function fetchLayers(deps: ImageStoreDeps, ref: ImageReference, layers: readonly LayerRecord[], progress: (p: PullProgress) => void, signal?: AbortSignal): Promise<void> {
  const { registry, content } = deps;
  const seen = new Set<Digest>();
  const queue = layers.filter((l) => !seen.has(l.digest) && seen.add(l.digest));
  for (const l of queue) progress({ id: l.digest.slice(7, 19), status: 'Pulling fs layer' });
  await eachLimited(queue, deps.concurrency ?? 3, async (layer) => {
    const id = layer.digest.slice(7, 19);
    if (await content.has(layer.digest)) {
      progress({ id, status: 'Already exists' });
      return;
    }
    let last = 0;
    await registry.fetchBlob(ref, layer.digest, layer.size, content, {
      ...(signal ? { signal } : {}),
      onBytes: (current, total) => {
        const now = Date.now();
        if (now - last < PROGRESS_INTERVAL_MS && current < total) return;
        last = now;
        progress({ id, status: current < total ? 'Downloading' : 'Verifying Checksum', current, total });
      },
    });
    progress({ id, status: 'Download complete' });
  });
}
