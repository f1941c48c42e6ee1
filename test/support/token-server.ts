/**
 * A token server for the distribution spec's Bearer flow, for tests: it checks
 * basic credentials and issues ES256 JWTs signed by a self-signed certificate
 * (made with `openssl req -x509`) that the registry trusts through
 * `auth.token.rootcertbundle`; the token header carries the certificate as `x5c`.
 * Serves `GET /token?service=..&scope=..` and the OAuth2 `POST /token` form.
 */
import { createPrivateKey, randomUUID, sign, timingSafeEqual, X509Certificate, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { runChecked } from '../../src/common/process/spawn';

/** What a user may do on repositories: `pull`, or `pull` and `push` (and `delete`). */
export type Permission = 'pull' | 'push';

export interface TokenUser {
  readonly password: string;
  readonly permission: Permission;
}

export interface TokenServerOptions {
  /** Directory for the key and certificate (the caller removes it). */
  readonly dir: string;
  readonly service: string;
  readonly issuer: string;
  readonly users: Readonly<Record<string, TokenUser>>;
  /** Issue pull tokens without credentials (like a public registry). Default: refuse with 401. */
  readonly anonymousPull?: boolean;
  /** Token lifetime in seconds (default 300). */
  readonly expiresIn?: number;
  readonly signal?: AbortSignal;
}

/** One answered token request, for tests that check the flow. */
export interface TokenRequest {
  readonly method: string;
  readonly account: string | undefined;
  readonly scopes: readonly string[];
  readonly status: number;
}

export interface TokenServer extends AsyncDisposable {
  /** The realm to put in the registry's config: `http://127.0.0.1:PORT/token`. */
  readonly realm: string;
  /** PEM certificate whose key signs the tokens (the registry's rootcertbundle). */
  readonly certPath: string;
  readonly requests: readonly TokenRequest[];
  stop(): Promise<void>;
}

interface Access {
  type: string;
  name: string;
  actions: string[];
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `repository:name:pull,push` (the name may hold no colon; the type may carry a `(class)`). */
function parseScope(scope: string): Access | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  const type = scope.slice(0, first).replace(/\(.*\)$/, '');
  return { type, name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',').filter(Boolean) };
}

function granted(access: Access, permission: Permission | 'anonymous'): Access {
  const allowed =
    access.type === 'repository'
      ? permission === 'push'
        ? ['pull', 'push', 'delete', '*']
        : ['pull']
      : access.type === 'registry' && access.name === 'catalog' && permission !== 'anonymous'
        ? ['*']
        : [];
  return { ...access, actions: access.actions.filter((a) => allowed.includes(a)) };
}

function basicCredentials(req: IncomingMessage): { user: string; password: string } | undefined {
  const header = req.headers.authorization;
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const { signal } = options;
  const keyPath = path.join(options.dir, 'token-key.pem');
  const certPath = path.join(options.dir, 'token-cert.pem');
  await runChecked(
    ['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=berth test token issuer', '-keyout', keyPath, '-out', certPath],
    { signal },
  );
  const key: KeyObject = createPrivateKey(await readFile(keyPath));
  const x5c = [new X509Certificate(await readFile(certPath)).raw.toString('base64')];
  const expiresIn = options.expiresIn ?? 300;
  const requests: TokenRequest[] = [];

  const issue = (subject: string, access: Access[]): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'ES256', x5c }));
    const claims = b64url(
      JSON.stringify({ iss: options.issuer, sub: subject, aud: options.service, exp: now + expiresIn, nbf: now - 1, iat: now, jti: randomUUID(), access }),
    );
    const signature = sign('sha256', Buffer.from(`${header}.${claims}`), { key, dsaEncoding: 'ieee-p1363' });
    return `${header}.${claims}.${b64url(signature)}`;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://token');
    let params = url.searchParams;
    let credentials = basicCredentials(req);
    if (req.method === 'POST') {
      params = new URLSearchParams(await readBody(req));
      if (params.get('grant_type') !== 'password') {
        respond(res, 400, { error: 'unsupported_grant_type' }, req, undefined, []);
        return;
      }
      credentials = { user: params.get('username') ?? '', password: params.get('password') ?? '' };
    }
    const scopes = params.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
    if (url.pathname !== '/token' || (req.method !== 'GET' && req.method !== 'POST')) {
      respond(res, 404, { error: 'not found' }, req, credentials?.user, scopes);
      return;
    }
    if (params.get('service') !== options.service) {
      respond(res, 400, { error: 'invalid_request', error_description: 'unknown service' }, req, credentials?.user, scopes);
      return;
    }
    const user = credentials ? options.users[credentials.user] : undefined;
    if (credentials && !(user && safeEqual(user.password, credentials.password))) {
      respond(res, 401, { error: 'invalid_grant', error_description: 'bad credentials' }, req, credentials.user, scopes);
      return;
    }
    if (!user && !options.anonymousPull) {
      respond(res, 401, { error: 'unauthorized', error_description: 'credentials required' }, req, undefined, scopes);
      return;
    }
    const access = scopes.map(parseScope).flatMap((a) => (a ? [granted(a, user ? user.permission : 'anonymous')] : []));
    const token = issue(credentials?.user ?? '', access);
    respond(res, 200, { token, access_token: token, expires_in: expiresIn, issued_at: new Date().toISOString() }, req, credentials?.user, scopes);
  };

  const respond = (res: ServerResponse, status: number, body: unknown, req: IncomingMessage, account: string | undefined, scopes: string[]): void => {
    requests.push({ method: req.method ?? '?', account, scopes, status });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (status === 401) headers['www-authenticate'] = 'Basic realm="berth test token server"';
    res.writeHead(status, headers).end(JSON.stringify(body));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });
  signal?.throwIfAborted();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }));
  return { realm: `http://127.0.0.1:${port}/token`, certPath, requests, stop, [Symbol.asyncDispose]: stop };
}
