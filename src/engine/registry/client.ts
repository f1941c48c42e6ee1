/**
 * A client for the OCI distribution spec: manifests with content
 * negotiation, blobs streamed into the content store with resume (Range),
 * token and basic auth on challenge. Plain HTTP only for hosts the caller
 * marks insecure (by default loopback, like Docker).
 */
import { Readable } from 'node:stream';
import { BerthError } from '../../common/errors';
import type { Logger } from '../../common/log';
import type { Digest } from '../../api/types/oci';
import { MEDIA_TYPES } from '../../api/types/oci';
import type { ContentStore } from '../content/store';
import { sha256 } from '../content/store';
import { basicHeader, parseChallenge, type Credentials } from './auth';
import type { ImageReference } from '../images/reference';

export const MANIFEST_ACCEPT = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifestList, MEDIA_TYPES.dockerManifest].join(', ');

export interface RegistryClientOptions {
  readonly logger: Logger;
  /** Hosts reached over plain HTTP (default: 127.0.0.1/localhost/[::1], with any port). */
  readonly isInsecure?: (host: string) => boolean;
  readonly credentials?: (host: string) => Promise<Credentials | undefined>;
}

export interface FetchedManifest {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly body: Buffer;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/;

export class RegistryClient {
  private readonly tokens = new Map<string, string>();

  constructor(private readonly options: RegistryClientOptions) {}

  private base(host: string): string {
    const insecure = this.options.isInsecure ?? ((h: string) => LOOPBACK.test(h));
    const registryHost = host === 'docker.io' ? 'registry-1.docker.io' : host;
    return `${insecure(host) ? 'http' : 'https'}://${registryHost}`;
  }

  /** A request with the auth dance: on 401, answer the challenge once and retry. */
  private async request(host: string, repo: string, url: string, init: RequestInit & { signal?: AbortSignal }, action = 'pull'): Promise<Response> {
    const key = `${host}|${repo}|${action}`;
    const send = async (): Promise<Response> => {
      const headers = new Headers(init.headers);
      const token = this.tokens.get(key);
      if (token) headers.set('authorization', token);
      try {
        return await fetch(url, { ...init, headers, redirect: 'follow' });
      } catch (err) {
        if ((err as Error).name === 'AbortError') throw new BerthError('cancelled', `request to ${host} cancelled`, { cause: err });
        throw new BerthError('unavailable', `cannot reach registry ${host}: ${(err as Error).message}${(err as { cause?: Error }).cause ? ` (${(err as { cause: Error }).cause.message})` : ''}`, { cause: err });
      }
    };
    let res = await send();
    if (res.status !== 401) return res;
    const challenge = parseChallenge(res.headers.get('www-authenticate') ?? '');
    await res.body?.cancel();
    if (!challenge) throw new BerthError('failed_precondition', `registry ${host} refused access to ${repo} without saying how to authenticate`);
    const creds = await this.options.credentials?.(host);
    if (challenge.scheme === 'basic') {
      if (!creds) throw new BerthError('failed_precondition', `unauthorized: registry ${host} needs credentials for ${repo}`);
      this.tokens.set(key, basicHeader(creds));
    } else {
      this.tokens.set(key, `Bearer ${await this.fetchToken(challenge.params, repo, action, creds, init.signal ?? undefined)}`);
    }
    res = await send();
    if (res.status === 401) {
      await res.body?.cancel();
      throw new BerthError('failed_precondition', `unauthorized: registry ${host} refused the credentials for ${repo}`);
    }
    return res;
  }

  private async fetchToken(params: Readonly<Record<string, string>>, repo: string, action: string, creds: Credentials | undefined, signal?: AbortSignal): Promise<string> {
    const realm = params['realm'];
    if (!realm) throw new BerthError('failed_precondition', 'the registry asked for a bearer token without a realm');
    const url = new URL(realm);
    if (params['service']) url.searchParams.set('service', params['service']);
    url.searchParams.set('scope', params['scope'] ?? `repository:${repo}:${action}`);
    const res = await fetch(url, { headers: creds ? { authorization: basicHeader(creds) } : {}, ...(signal ? { signal } : {}) }).catch((err: unknown) => {
      throw new BerthError('unavailable', `cannot reach the token service ${url.host}: ${(err as Error).message}`, { cause: err });
    });
    if (!res.ok) throw new BerthError('failed_precondition', `unauthorized: the token service ${url.host} answered ${res.status} for ${repo}`);
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new BerthError('failed_precondition', `the token service ${url.host} returned no token`);
    return token;
  }

  async getManifest(ref: ImageReference, reference: string, options: { signal?: AbortSignal } = {}): Promise<FetchedManifest> {
    const url = `${this.base(ref.domain)}/v2/${ref.path}/manifests/${reference}`;
    const res = await this.request(ref.domain, ref.path, url, { headers: { accept: MANIFEST_ACCEPT }, ...(options.signal ? { signal: options.signal } : {}) });
    if (res.status === 404) {
      await res.body?.cancel();
      throw new BerthError('not_found', `manifest for ${ref.domain}/${ref.path}:${reference} not found`);
    }
    if (!res.ok) throw new BerthError('unavailable', `registry ${ref.domain} answered ${res.status} for the manifest of ${ref.path}:${reference}`);
    const body = Buffer.from(await res.arrayBuffer());
    const digest = sha256(body);
    if (reference.startsWith('sha256:') && digest !== reference) {
      throw new BerthError('invalid_argument', `manifest digest mismatch for ${ref.path}: expected ${reference}, got ${digest}`);
    }
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]?.trim() || ((JSON.parse(body.toString('utf8')) as { mediaType?: string }).mediaType ?? '');
    return { mediaType, digest, body };
  }

  /**
   * Streams a blob into the content store, resuming a partial download with
   * a Range request. Verifies size and digest before it is visible.
   */
  async fetchBlob(
    ref: ImageReference,
    digest: Digest,
    size: number,
    store: ContentStore,
    options: { signal?: AbortSignal; onBytes?: (current: number, total: number) => void } = {},
  ): Promise<void> {
    if (await store.has(digest)) return;
    const ingest = await store.ingest(digest, size);
    let ok = false;
    try {
      const url = `${this.base(ref.domain)}/v2/${ref.path}/blobs/${digest}`;
      const headers: Record<string, string> = ingest.offset > 0 ? { range: `bytes=${ingest.offset}-` } : {};
      const res = await this.request(ref.domain, ref.path, url, { headers, ...(options.signal ? { signal: options.signal } : {}) });
      if (res.status === 404) throw new BerthError('not_found', `blob ${digest} of ${ref.path} not found`);
      if (!res.ok || !res.body) throw new BerthError('unavailable', `registry ${ref.domain} answered ${res.status} for blob ${digest}`);
      let current = ingest.offset;
      if (ingest.offset > 0 && res.status !== 206) {
        // The server ignored the range: start over.
        await ingest.close({ discard: true });
        return await this.fetchBlob(ref, digest, size, store, options);
      }
      options.onBytes?.(current, size);
      for await (const chunk of Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>)) {
        const buf = chunk as Buffer;
        await ingest.write(buf);
        current += buf.length;
        if (current > size) throw new BerthError('invalid_argument', `blob ${digest} is larger than its descriptor says (${size} bytes)`);
        options.onBytes?.(current, size);
      }
      await ingest.commit();
      ok = true;
    } finally {
      if (!ok) await ingest.close();
    }
  }
}
