/**
 * OCI artifacts through the engine's registry client and content store:
 * pull a manifest with its config and layers, or push blobs and a manifest
 * under tags. Used for dev container features (and their publishing).
 */
import type { ArtifactBlob, ArtifactPullResult, ArtifactPushRequest, ArtifactPushResult } from '../../api/types/artifacts';
import { MEDIA_TYPES, type Descriptor, type Digest } from '../../api/types/oci';
import { BerthError } from '../../common/errors';
import type { ContentStore } from '../content/store';
import { formatReference, parseReference, type ImageReference } from '../images/reference';
import type { RegistryClient } from '../registry/client';

/** Artifacts are small (features are kilobytes); anything bigger is refused. */
const MAX_TOTAL = 64 * 1024 * 1024;

interface ArtifactManifest {
  readonly mediaType?: string;
  readonly artifactType?: string;
  readonly config?: Descriptor;
  readonly layers?: readonly Descriptor[];
  readonly annotations?: Record<string, string>;
}

export class Artifacts {
  constructor(
    private readonly registry: RegistryClient,
    private readonly content: ContentStore,
  ) {}

  async pull(reference: string, options: { signal?: AbortSignal } = {}): Promise<ArtifactPullResult> {
    const ref = parseReference(reference);
    const fetched = await this.registry.getManifest(ref, ref.digest ?? ref.tag ?? 'latest', options);
    if (fetched.mediaType !== MEDIA_TYPES.ociManifest && fetched.mediaType !== MEDIA_TYPES.dockerManifest) {
      throw new BerthError('invalid_argument', `${reference} is a ${fetched.mediaType || 'manifest of unknown type'}, not a single artifact manifest`);
    }
    const manifest = JSON.parse(fetched.body.toString('utf8')) as ArtifactManifest;
    if (!manifest.config) throw new BerthError('invalid_argument', `${reference}: the manifest has no config`);
    const total = [manifest.config, ...(manifest.layers ?? [])].reduce((n, d) => n + d.size, 0);
    if (total > MAX_TOTAL) throw new BerthError('invalid_argument', `${reference} is ${total} bytes; artifacts over ${MAX_TOTAL} bytes are not supported`);
    const blob = async (d: Descriptor): Promise<ArtifactBlob> => {
      await this.registry.fetchBlob(ref, d.digest, d.size, this.content, options);
      const data = await this.content.read(d.digest, options);
      return { mediaType: d.mediaType, digest: d.digest, size: d.size, ...(d.annotations ? { annotations: d.annotations } : {}), data: data.toString('base64') };
    };
    return {
      reference: formatReference(ref),
      digest: fetched.digest,
      ...(manifest.artifactType ? { artifactType: manifest.artifactType } : {}),
      annotations: manifest.annotations ?? {},
      config: await blob(manifest.config),
      layers: await Promise.all((manifest.layers ?? []).map(blob)),
    };
  }

  async push(req: ArtifactPushRequest, options: { signal?: AbortSignal } = {}): Promise<ArtifactPushResult> {
    const ref: ImageReference = parseReference(req.reference);
    // The request's tags; without any, the reference's own (parseReference makes it "latest" when absent).
    const tags = req.tags.length > 0 ? [...new Set(req.tags)] : ref.tag ? [ref.tag] : [];
    if (tags.length === 0) throw new BerthError('invalid_argument', 'an artifact push needs at least one tag');
    const put = async (mediaType: string, base64: string, annotations?: Readonly<Record<string, string>>): Promise<Descriptor> => {
      const data = Buffer.from(base64, 'base64');
      const digest: Digest = await this.content.put(data);
      await this.registry.pushBlob(ref, digest, data.length, this.content, options);
      return { mediaType, digest, size: data.length, ...(annotations ? { annotations: { ...annotations } } : {}) };
    };
    const config = await put(req.config.mediaType, req.config.data);
    const layers: Descriptor[] = [];
    for (const l of req.layers) layers.push(await put(l.mediaType, l.data, l.annotations));
    const manifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      ...(req.artifactType ? { artifactType: req.artifactType } : {}),
      config,
      layers,
      ...(req.annotations ? { annotations: req.annotations } : {}),
    };
    const body = Buffer.from(JSON.stringify(manifest));
    let digest = '';
    for (const tag of tags) digest = await this.registry.putManifest(ref, tag, MEDIA_TYPES.ociManifest, body, options);
    return { digest, tags };
  }
}
