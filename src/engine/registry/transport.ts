/**
 * HTTP to one registry, after the distribution spec: anonymous first, then on
 * 401 answer the WWW-Authenticate challenge (Bearer token or Basic) and retry;
 * redirects followed by hand so that credentials never go to another origin
 * (blob storage such as S3); plain HTTP only for hosts marked insecure.
 */
import { BerthError } from '../../common/errors';
import type { Logger } from '../../common/log';
import { basicHeader, parseChallenge, type Credentials } from './auth';

export interface TransportOptions {
  readonly logger: Logger;
  /**
   * Registries reached over plain HTTP: "host" (any port) or "host:port".
   * Default: 127.0.0.1, localhost and [::1], like Docker.
   */
  readonly insecureRegistries?: readonly string[];
  /** Credentials for a registry host, e.g. from a Docker config.json (see credentialsFromConfig). */
  readonly credentials?: (host: string) => Promise<Credentials | undefined>;
}

export interface RegistryRequest {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  /** Made afresh for each attempt (a stream cannot be sent twice). */
  readonly body?: () => RequestInit['body'];
  readonly signal?: AbortSignal;
  /** The actions the request needs, for the token scope: "pull" or "pull,push". */
  readonly actions?: string;
  /** What to name in error messages, e.g. the image reference. */
  readonly what: string;
}

const DEFAULT_INSECURE = ['127.0.0.1', 'localhost', '[::1]'];
const MAX_REDIRECTS = 5;

function hostOnly(host: string): string {
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0] ?? host;
}

export function registryUnavailable(host: string, what: string, err: unknown): BerthError {
  if (err instanceof BerthError) return err;
  const e = err as Error & { cause?: Error };
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return new BerthError('cancelled', `${what}: cancelled`, { cause: err });
  const detail = (e.cause?.message ? `${e.message} (${e.cause.message})` : e.message).trim();
  // A plain-HTTP registry answering our TLS hello.
  const hint = /wrong version number|packet length too long/i.test(detail) ? `; it may serve plain HTTP: allow that with berthd --insecure-registry ${host}` : '';
  return new BerthError('unavailable', `${what}: cannot reach registry ${host}: ${detail}${hint}`, { cause: err });
}

export class RegistryTransport {
  /** Authorization header values by "host|repository|actions". */
  private readonly auth = new Map<string, string>();

  constructor(private readonly options: TransportOptions) {}

  isInsecure(host: string): boolean {
    const list = this.options.insecureRegistries ?? DEFAULT_INSECURE;
    return list.includes(host) || list.includes(hostOnly(host));
  }

  /** "https://registry-1.docker.io" for docker.io; http:// for insecure hosts. */
  baseUrl(host: string): string {
    const registryHost = host === 'docker.io' ? 'registry-1.docker.io' : host;
    return `${this.isInsecure(host) ? 'http' : 'https'}://${registryHost}`;
  }

  /** Sends `url` (absolute or relative to the registry) for `repo`, authenticating on demand. */
  async request(host: string, repo: string, url: string, req: RegistryRequest): Promise<Response> {
    const actions = req.actions ?? 'pull';
    const key = `${host}|${repo}|${actions}`;
    const absolute = new URL(url, this.baseUrl(host)).toString();
    let res = await this.send(host, absolute, req, this.auth.get(key));
    if (res.status !== 401) return res;
    const header = res.headers.get('www-authenticate') ?? '';
    await res.body?.cancel().catch(() => undefined);
    const challenge = parseChallenge(header);
    if (!challenge) throw new BerthError('failed_precondition', `${req.what}: unauthorized: registry ${host} refused access without saying how to authenticate`);
    const creds = await this.options.credentials?.(host);
    if (challenge.scheme === 'basic') {
      if (!creds) throw new BerthError('failed_precondition', `${req.what}: unauthorized: registry ${host} needs credentials (none configured)`);
      this.auth.set(key, basicHeader(creds));
    } else {
      const token = await this.fetchToken(host, challenge.params, `repository:${repo}:${actions}`, creds, req);
      this.auth.set(key, `Bearer ${token}`);
    }
    res = await this.send(host, absolute, req, this.auth.get(key));
    if (res.status === 401) {
      await res.body?.cancel().catch(() => undefined);
      this.auth.delete(key);
      throw new BerthError('failed_precondition', `${req.what}: unauthorized: registry ${host} refused ${creds ? 'the configured credentials' : 'anonymous access'}`);
    }
    return res;
  }

  /** Checks credentials as `docker login` does: the registry's /v2/ with them (Basic, or a Bearer token for no scope). */
  async login(host: string, creds: Credentials, options: { signal?: AbortSignal } = {}): Promise<void> {
    const req: RegistryRequest = { what: `login to ${host}`, ...(options.signal ? { signal: options.signal } : {}) };
    const url = new URL('/v2/', this.baseUrl(host)).toString();
    const check = async (authorization: string | undefined): Promise<Response> => {
      const res = await this.send(host, url, req, authorization);
      await res.body?.cancel().catch(() => undefined);
      return res;
    };
    const first = await check(undefined);
    if (first.ok) return;
    const challenge = first.status === 401 ? parseChallenge(first.headers.get('www-authenticate') ?? '') : undefined;
    if (!challenge) throw new BerthError('unavailable', `${req.what}: the registry answered ${first.status}`);
    const authorization = challenge.scheme === 'basic' ? basicHeader(creds) : `Bearer ${await this.fetchToken(host, challenge.params, '', creds, req)}`;
    if (!(await check(authorization)).ok) throw new BerthError('failed_precondition', `${req.what}: unauthorized: incorrect username or password`);
  }

  /** One attempt, following redirects; Authorization only goes to the registry's own origin. */
  private async send(host: string, url: string, req: RegistryRequest, authorization: string | undefined): Promise<Response> {
    const origin = new URL(this.baseUrl(host)).origin;
    let target = url;
    let method = req.method ?? 'GET';
    let withBody = true;
    for (let hop = 0; ; hop++) {
      const headers = new Headers(req.headers);
      if (authorization && new URL(target).origin === origin) headers.set('authorization', authorization);
      const body = withBody ? req.body?.() : undefined;
      let res: Response;
      try {
        res = await fetch(target, {
          method,
          headers,
          redirect: 'manual',
          ...(body !== undefined && body !== null ? { body, duplex: 'half' } : {}),
          ...(req.signal ? { signal: req.signal } : {}),
        });
      } catch (err) {
        throw registryUnavailable(host, req.what, err);
      }
      const location = res.headers.get('location');
      if (![301, 302, 303, 307, 308].includes(res.status) || !location) return res;
      await res.body?.cancel().catch(() => undefined);
      if (hop >= MAX_REDIRECTS) throw new BerthError('unavailable', `${req.what}: too many redirects from registry ${host}`);
      target = new URL(location, target).toString();
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
        method = 'GET';
        withBody = false;
      }
      this.options.logger.debug('registry redirect', { host, to: new URL(target).host });
    }
  }

  private async fetchToken(
    host: string,
    params: Readonly<Record<string, string>>,
    scope: string,
    creds: Credentials | undefined,
    req: RegistryRequest,
  ): Promise<string> {
    const realm = params['realm'];
    if (!realm) throw new BerthError('failed_precondition', `${req.what}: registry ${host} asked for a bearer token without a realm`);
    let url: URL;
    try {
      url = new URL(realm);
    } catch (err) {
      throw new BerthError('failed_precondition', `${req.what}: registry ${host} gave an invalid token realm "${realm}"`, { cause: err });
    }
    if (url.protocol !== 'https:' && !this.isInsecure(url.host) && !this.isInsecure(host)) {
      throw new BerthError('failed_precondition', `${req.what}: refusing to send credentials to the plain-HTTP token service ${url.host}`);
    }
    if (params['service']) url.searchParams.set('service', params['service']);
    // Our scope (with the actions we need: the challenge may only say "pull"), plus any other the challenge names (a mount's source).
    const scopes = new Set([scope, ...(params['scope'] ?? '').split(' ').filter((s) => s && !s.startsWith(`${scope.split(':').slice(0, 2).join(':')}:`))]);
    for (const s of scopes) if (s) url.searchParams.append('scope', s);
    let res: Response;
    try {
      res = await fetch(url, { headers: creds ? { authorization: basicHeader(creds) } : {}, ...(req.signal ? { signal: req.signal } : {}) });
    } catch (err) {
      throw registryUnavailable(url.host, req.what, err);
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      throw new BerthError('failed_precondition', `${req.what}: unauthorized: the token service ${url.host} answered ${res.status}${creds ? '' : ' (no credentials configured)'}`);
    }
    const body = (await res.json().catch(() => ({}))) as { token?: unknown; access_token?: unknown };
    const token = typeof body.token === 'string' ? body.token : typeof body.access_token === 'string' ? body.access_token : undefined;
    if (!token) throw new BerthError('failed_precondition', `${req.what}: the token service ${url.host} returned no token`);
    return token;
  }
}
