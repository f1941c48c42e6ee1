/**
 * A client for the OCI distribution spec: manifests with content negotiation,
 * blobs streamed into the content store with resume (Range) and digest
 * verification, and the push side (blob HEAD, cross-repository mount,
 * monolithic or chunked upload, manifest PUT). Authentication, redirects and
 * insecure hosts are the transport's business.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { BerthError } from '../../common/errors';
import type { Digest } from '../../api/types/oci';
import { MEDIA_TYPES } from '../../api/types/oci';
import type { ContentStore } from '../content/store';
import { sha256 } from '../content/store';
import { formatReference, type ImageReference } from '../images/reference';
import { RegistryTransport, registryUnavailable, type TransportOptions } from './transport';

export const MANIFEST_ACCEPT = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifestList, MEDIA_TYPES.dockerManifest].join(', ');
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const DEFAULT_CHUNK = 64 * 1024 * 1024;

export type RegistryClientOptions = TransportOptions;

export interface FetchedManifest {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly body: Buffer;
}

export interface BlobFetchResult {
  /** Bytes found in a partial ingest and not downloaded again. */
  readonly resumedFrom: number;
  /** Bytes transferred by this call. */
  readonly downloaded: number;
}

interface Signal {
  readonly signal?: AbortSignal;
}

async function failure(res: Response, what: string, host: string): Promise<BerthError> {
  const text = await res.text().catch(() => '');
  let detail = '';
  try {
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    detail = (body.errors ?? []).map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
  } catch {
    detail = text.slice(0, 200);
  }
  const suffix = detail ? ` (${detail})` : '';
  if (res.status === 403) return new BerthError('failed_precondition', `${what}: denied by registry ${host}${suffix}`);
  if (res.status === 404) return new BerthError('not_found', `${what}: not found in registry ${host}${suffix}`);
  if (res.status >= 400 && res.status < 500) return new BerthError('invalid_argument', `${what}: registry ${host} answered ${res.status}${suffix}`);
  return new BerthError('unavailable', `${what}: registry ${host} answered ${res.status}${suffix}`);
}

export class RegistryClient {
  readonly transport: RegistryTransport;

  constructor(options: RegistryClientOptions) {
    this.transport = new RegistryTransport(options);
  }

  private url(ref: ImageReference, kind: 'manifests' | 'blobs', reference: string): string {
    return `/v2/${ref.path}/${kind}/${reference}`;
  }

  /** Fetches the manifest (or index) named by a tag or digest; verifies it when named by digest. */
  async getManifest(ref: ImageReference, reference: string, options: Signal = {}): Promise<FetchedManifest> {
    const name = `${ref.domain}/${ref.path}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;
    const what = `manifest for ${name}`;
    const res = await this.transport.request(ref.domain, ref.path, this.url(ref, 'manifests', reference), { headers: { accept: MANIFEST_ACCEPT }, what, ...options });
    if (res.status === 404) {
      await res.body?.cancel().catch(() => undefined);
      throw new BerthError('not_found', `manifest for ${name} not found`);
    }
    if (!res.ok) throw await failure(res, what, ref.domain);
    const length = Number(res.headers.get('content-length') ?? '0');
    if (length > MAX_MANIFEST_BYTES) throw new BerthError('invalid_argument', `${what} is too large (${length} bytes)`);
    let body: Buffer;
    try {
      body = Buffer.from(await res.arrayBuffer());
    } catch (err) {
      throw registryUnavailable(ref.domain, what, err);
    }
    if (body.length > MAX_MANIFEST_BYTES) throw new BerthError('invalid_argument', `${what} is too large (${body.length} bytes)`);
    const digest = sha256(body);
    if (reference.startsWith('sha256:') && digest !== reference) {
      throw new BerthError('invalid_argument', `${what} failed verification: its content has digest ${digest}`);
    }
    let declared: string | undefined;
    try {
      declared = (JSON.parse(body.toString('utf8')) as { mediaType?: unknown }).mediaType as string | undefined;
    } catch (err) {
      throw new BerthError('invalid_argument', `${what} is not valid JSON`, { cause: err });
    }
    const header = (res.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
    const mediaType = typeof declared === 'string' && declared ? declared : header;
    return { mediaType, digest, body };
  }

  /**
   * Streams a blob into the content store, resuming a partial ingest with a
   * Range request. Size and digest are verified before the blob is visible.
   */
  async fetchBlob(
    ref: ImageReference,
    digest: Digest,
    size: number,
    store: ContentStore,
    options: Signal & { onBytes?: (current: number, total: number) => void } = {},
  ): Promise<BlobFetchResult> {
    const what = `blob ${digest} of ${formatReference(ref)}`;
    if (await store.has(digest)) return { resumedFrom: size, downloaded: 0 };
    const ingest = await store.ingest(digest, { size, ...options });
    if (ingest.exists) {
      await ingest.close();
      return { resumedFrom: size, downloaded: 0 };
    }
    let current = ingest.offset;
    const resumedFrom = ingest.offset;
    let downloaded = 0;
    try {
      const headers: Record<string, string> = current > 0 ? { range: `bytes=${current}-` } : {};
      const res = await this.transport.request(ref.domain, ref.path, this.url(ref, 'blobs', digest), { headers, what, ...options });
      if (res.status === 416 && current > 0) {
        // The partial file is as long as the blob (or the server disagrees): verify what we have.
        await res.body?.cancel().catch(() => undefined);
      } else {
        if (res.status === 404) {
          await res.body?.cancel().catch(() => undefined);
          throw new BerthError('not_found', `${what} not found in registry ${ref.domain}`);
        }
        if (!res.ok || !res.body) throw await failure(res, what, ref.domain);
        const range = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
        if (current > 0 && (res.status !== 206 || Number(range?.[1]) !== current)) {
          // The server ignored the range: start over from its full answer.
          await ingest.reset();
          current = 0;
        }
        options.onBytes?.(current, size);
        try {
          for await (const chunk of res.body as WebReadableStream<Uint8Array>) {
            const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
            await ingest.write(buf);
            current += buf.length;
            downloaded += buf.length;
            options.onBytes?.(current, size);
          }
        } catch (err) {
          throw registryUnavailable(ref.domain, what, err);
        }
      }
      await ingest.commit().catch((err: unknown) => {
        throw new BerthError('invalid_argument', `${what} failed verification: ${(err as Error).message}`, { cause: err });
      });
      return { resumedFrom, downloaded };
    } finally {
      await ingest.close();
    }
  }

  async blobExists(ref: ImageReference, digest: Digest, options: Signal & { actions?: string } = {}): Promise<boolean> {
    const what = `blob ${digest} of ${formatReference(ref)}`;
    const res = await this.transport.request(ref.domain, ref.path, this.url(ref, 'blobs', digest), { method: 'HEAD', what, ...options });
    await res.body?.cancel().catch(() => undefined);
    if (res.status === 404) return false;
    if (res.ok) return true;
    throw await failure(res, what, ref.domain);
  }

  /**
   * Uploads a blob from the content store unless the registry has it: tries a
   * cross-repository mount from `mountFrom` (a repository path on the same
   * registry), then uploads it in one PUT, or in PATCH chunks when it is
   * larger than `chunkSize`. Returns false when nothing had to be sent.
   */
  async pushBlob(
    ref: ImageReference,
    digest: Digest,
    size: number,
    store: ContentStore,
    options: Signal & { mountFrom?: string; chunkSize?: number; onBytes?: (current: number, total: number) => void } = {},
  ): Promise<boolean> {
    const what = `pushing blob ${digest} to ${formatReference(ref)}`;
    const common = { actions: 'pull,push', what, ...(options.signal ? { signal: options.signal } : {}) };
    if (await this.blobExists(ref, digest, common)) return false;
    const start = options.mountFrom && options.mountFrom !== ref.path ? `?mount=${digest}&from=${encodeURIComponent(options.mountFrom)}` : '';
    let res = await this.transport.request(ref.domain, ref.path, `/v2/${ref.path}/blobs/uploads/${start}`, { ...common, method: 'POST' });
    if (res.status === 201) {
      await res.body?.cancel().catch(() => undefined);
      return false;
    }
    if (res.status !== 202) throw await failure(res, what, ref.domain);
    await res.body?.cancel().catch(() => undefined);
    let location = this.location(res, ref, what);
    const chunkSize = options.chunkSize ?? DEFAULT_CHUNK;
    let offset = 0;
    if (size > chunkSize) {
      while (offset < size) {
        const end = Math.min(offset + chunkSize, size) - 1;
        const from = offset;
        res = await this.transport.request(ref.domain, ref.path, location, {
          ...common,
          method: 'PATCH',
          headers: { 'content-type': 'application/octet-stream', 'content-range': `${from}-${end}`, 'content-length': String(end - from + 1) },
          body: () => Readable.toWeb(store.openRead(digest, { start: from, end })) as ReadableStream,
        });
        if (res.status !== 202) throw await failure(res, what, ref.domain);
        await res.body?.cancel().catch(() => undefined);
        location = this.location(res, ref, what);
        offset = end + 1;
        options.onBytes?.(offset, size);
      }
    }
    const url = new URL(location, this.transport.baseUrl(ref.domain));
    url.searchParams.set('digest', digest);
    const rest = size - offset;
    res = await this.transport.request(ref.domain, ref.path, url.toString(), {
      ...common,
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(rest) },
      body: () => (rest > 0 ? (Readable.toWeb(store.openRead(digest, { start: offset })) as ReadableStream) : ''),
    });
    if (res.status !== 201) throw await failure(res, what, ref.domain);
    await res.body?.cancel().catch(() => undefined);
    options.onBytes?.(size, size);
    return true;
  }

  private location(res: Response, ref: ImageReference, what: string): string {
    const location = res.headers.get('location');
    if (!location) throw new BerthError('unavailable', `${what}: registry ${ref.domain} gave no upload location`);
    return new URL(location, this.transport.baseUrl(ref.domain)).toString();
  }

  /** PUTs a manifest under a tag or digest; returns its digest. */
  async putManifest(ref: ImageReference, reference: string, mediaType: string, body: Buffer, options: Signal = {}): Promise<Digest> {
    const what = `pushing manifest ${ref.domain}/${ref.path}:${reference}`;
    const res = await this.transport.request(ref.domain, ref.path, this.url(ref, 'manifests', reference), {
      method: 'PUT',
      actions: 'pull,push',
      headers: { 'content-type': mediaType },
      body: () => body,
      what,
      ...options,
    });
    if (res.status !== 201) throw await failure(res, what, ref.domain);
    await res.body?.cancel().catch(() => undefined);
    return sha256(body);
  }
}
