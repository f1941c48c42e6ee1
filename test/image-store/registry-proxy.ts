/**
 * Test helper: an HTTP proxy in front of a real registry that counts what it
 * serves, can demand Basic or Bearer authentication (with its own token
 * endpoint), can stall blob downloads part-way, and can redirect blob GETs to
 * another origin (like S3) to check that credentials do not follow.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxyRequest {
  readonly method: string;
  readonly url: string;
  readonly range?: string;
  readonly authorization?: string;
  status: number;
  /** Response body bytes sent. */
  bytes: number;
}

export interface ProxyOptions {
  readonly upstream: string;
  readonly auth?: 'none' | 'basic' | 'bearer';
  readonly username?: string;
  readonly password?: string;
}

export class RegistryProxy {
  readonly requests: ProxyRequest[] = [];
  readonly tokenRequests: { scope: string; authorization?: string }[] = [];
  /** Stop sending a blob body after this many bytes (until the client gives up). */
  stallAfter: number | undefined;
  /** Redirect blob GETs to http://localhost:<port>/direct/... */
  redirectBlobs = false;
  private readonly tokens = new Set<string>();
  private server: http.Server | undefined;
  host = '';

  constructor(private readonly options: ProxyOptions) {}

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.host = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private basic(): string {
    return `Basic ${Buffer.from(`${this.options.username ?? ''}:${this.options.password ?? ''}`).toString('base64')}`;
  }

  private authorized(req: http.IncomingMessage): boolean {
    const auth = req.headers.authorization;
    if (this.options.auth === 'basic') return auth === this.basic();
    if (this.options.auth === 'bearer') return !!auth && auth.startsWith('Bearer ') && this.tokens.has(auth.slice(7));
    return true;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = req.url ?? '/';
    if (url.startsWith('/token')) {
      const params = new URL(url, 'http://x').searchParams;
      this.tokenRequests.push({ scope: params.get('scope') ?? '', ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
      if (this.options.username && req.headers.authorization !== this.basic()) {
        res.writeHead(401).end();
        return;
      }
      const token = randomBytes(16).toString('hex');
      this.tokens.add(token);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
      return;
    }
    const direct = url.startsWith('/direct/');
    const path = direct ? url.slice('/direct'.length) : url;
    const record: ProxyRequest = {
      method: req.method ?? 'GET',
      url,
      ...(req.headers.range ? { range: req.headers.range } : {}),
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      status: 0,
      bytes: 0,
    };
    this.requests.push(record);
    if (!direct && !this.authorized(req)) {
      const challenge =
        this.options.auth === 'basic'
          ? 'Basic realm="test"'
          : `Bearer realm="http://${this.host}/token",service="test-registry",scope="repository:${/^\/v2\/(.+?)\/(manifests|blobs)\//.exec(path)?.[1] ?? ''}:pull"`;
      record.status = 401;
      res.writeHead(401, { 'www-authenticate': challenge, 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return;
    }
    const isBlobGet = req.method === 'GET' && /\/blobs\/sha256:/.test(path);
    if (!direct && isBlobGet && this.redirectBlobs) {
      record.status = 307;
      const port = (this.server?.address() as AddressInfo).port;
      res.writeHead(307, { location: `http://localhost:${port}/direct${path}` }).end();
      return;
    }
    const headers = { ...req.headers };
    delete headers.authorization;
    const upstream = http.request(`${this.options.upstream}${path}`, { method: req.method ?? 'GET', headers }, (up) => {
      record.status = up.statusCode ?? 0;
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.on('data', (chunk: Buffer) => {
        if (isBlobGet && this.stallAfter !== undefined && record.bytes + chunk.length > this.stallAfter) {
          const part = chunk.subarray(0, Math.max(0, this.stallAfter - record.bytes));
          record.bytes += part.length;
          res.write(part);
          up.pause(); // and never resume: the client has to give up
          return;
        }
        record.bytes += chunk.length;
        res.write(chunk);
      });
      up.on('end', () => res.end());
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  }
}
