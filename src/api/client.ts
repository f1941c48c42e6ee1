/**
 * The typed client of Berth's native API, built from the route table. It
 * speaks HTTP over the daemon's unix socket.
 */
import http from 'node:http';
import { Readable, type Duplex } from 'node:stream';
import { BerthError } from '../common/errors';
import { errorFromResponse } from './http-errors';
import { fillPath, ROUTES, type OperationName, type Operations } from './routes';

export interface ApiClientOptions {
  /** The engine's socket (on the remote machine when `connect` is given). */
  readonly socketPath: string;
  /** A byte stream to the engine's socket by other means (e.g. an SSH channel); default: connect to socketPath. */
  readonly connect?: () => Promise<Duplex>;
  /** Where the engine is, for messages (default: the socket path). */
  readonly describe?: string;
  /** Headers sent with every request (a gateway's Authorization). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface CallOptions<K extends OperationName> {
  readonly params?: Operations[K]['params'];
  readonly query?: Operations[K]['query'];
  readonly body?: Operations[K]['body'];
  readonly signal?: AbortSignal;
}

function queryString(query: object | undefined): string {
  if (!query) return '';
  const entries = Object.entries(query).filter(([, v]) => v !== undefined) as [string, unknown][];
  if (entries.length === 0) return '';
  return `?${new URLSearchParams(entries.map(([k, v]): [string, string] => [k, String(v)])).toString()}`;
}

export class ApiClient {
  constructor(private readonly options: ApiClientOptions) {}

  get socketPath(): string {
    return this.options.socketPath;
  }

  /** Headers every request carries (a gateway's token), if any. */
  get headers(): Readonly<Record<string, string>> | undefined {
    return this.options.headers;
  }

  /** How to reach the engine other than by its local socket, if so. */
  get connect(): (() => Promise<Duplex>) | undefined {
    return this.options.connect;
  }

  private async request<K extends OperationName>(op: K, options: CallOptions<K>): Promise<http.IncomingMessage> {
    const stream = this.options.connect ? await this.options.connect() : undefined;
    return this.send(op, options, stream);
  }

  private send<K extends OperationName>(op: K, options: CallOptions<K>, stream: Duplex | undefined): Promise<http.IncomingMessage> {
    const where = this.options.describe ?? this.options.socketPath;
    const route = ROUTES[op];
    const path = fillPath(route.path, (options.params ?? {}) as Record<string, string>) + queryString(options.query);
    const upload = options.body instanceof Readable ? options.body : undefined;
    const payload = options.body === undefined || upload ? undefined : Buffer.from(JSON.stringify(options.body));
    // servername: no TLS name to work out; node's agent would otherwise test the host for an IP address (a regex that costs a new process ~5 ms).
    const requestOptions: http.RequestOptions & { servername: string } = {
      // With a stream, socketPath is not connected to (createConnection is): it keeps VS Code's proxy patch of http.request off the request.
      ...(stream ? { createConnection: () => stream, host: 'berth', socketPath: '/berth' } : { socketPath: this.options.socketPath }),
      path,
      method: route.method,
      servername: '',
      headers: {
        ...this.options.headers,
        ...(upload ? { 'content-type': 'application/x-tar' } : payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
      },
      ...(options.signal ? { signal: options.signal } : {}),
    };
    return new Promise((resolve, reject) => {
      const req = http.request(requestOptions, resolve);
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.name === 'AbortError') reject(new BerthError('cancelled', `${op} cancelled`, { cause: err }));
        else if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
          reject(new BerthError('unavailable', `the Berth engine is not running (no socket at ${where}); start it with 'berth engine start'`, { cause: err }));
        } else reject(new BerthError('unavailable', `cannot reach the Berth engine at ${where}: ${err.message}`, { cause: err }));
      });
      if (upload) {
        upload.on('error', (err) => req.destroy(err));
        upload.pipe(req);
      } else req.end(payload);
    });
  }

  private static async readBody(res: http.IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    if (text === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return { message: text };
    }
  }

  /** A JSON operation. Errors come back as the BerthError the daemon raised. */
  async call<K extends OperationName>(op: K, options: CallOptions<K> = {}): Promise<Operations[K]['response']> {
    const res = await this.request(op, options);
    const body = await ApiClient.readBody(res);
    if ((res.statusCode ?? 500) >= 400) throw errorFromResponse(res.statusCode ?? 500, body);
    return body as Operations[K]['response'];
  }

  /** An NDJSON operation: yields each message as it arrives. */
  async *stream<K extends OperationName>(op: K, options: CallOptions<K> = {}): AsyncGenerator<Operations[K]['response']> {
    const res = await this.request(op, options);
    if ((res.statusCode ?? 500) >= 400) throw errorFromResponse(res.statusCode ?? 500, await ApiClient.readBody(res));
    // Split by hand (node:readline costs a CLI several modules to load); JSON ignores a line's \r.
    const decoder = new TextDecoder();
    let rest = '';
    try {
      for await (const chunk of res) {
        const text = decoder.decode(chunk as Buffer, { stream: true });
        // A long message in many chunks is joined once, when its line ends.
        if (!text.includes('\n')) {
          rest += text;
          continue;
        }
        const lines = (rest + text).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) if (line.trim() !== '') yield JSON.parse(line) as Operations[K]['response'];
      }
      rest += decoder.decode();
      if (rest.trim() !== '') yield JSON.parse(rest) as Operations[K]['response'];
    } finally {
      res.destroy();
    }
  }
}
