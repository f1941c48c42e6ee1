/**
 * The client side of GET /v1/containers/{id}/agent: a WebSocket over the
 * engine's unix socket, as a byte stream (SSH runs inside it). ws loads on
 * first use: other commands start faster.
 */
import net, { type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { BerthError } from '../common/errors';
import { errorFromResponse } from './http-errors';
import { fillPath, ROUTES } from './routes';

export interface EngineTarget {
  readonly socketPath: string;
  /** A byte stream to the engine by other means (an SSH channel). */
  readonly connect?: (() => Promise<Duplex>) | undefined;
  /** Headers for the upgrade request (a gateway's token). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

export async function openAgentStream(engine: EngineTarget, id: string, options: { signal?: AbortSignal } = {}): Promise<Duplex> {
  const socketPath = engine.socketPath;
  options.signal?.throwIfAborted();
  const { createWebSocketStream, WebSocket } = await import('ws');
  const route = fillPath(ROUTES.containerAgent.path, { id });
  const stream = engine.connect ? await engine.connect() : undefined;
  // An all-zero mask leaves frames unmasked in effect (no copy on either side). Masking guards
  // proxies against payloads a web page chooses; this one is SSH ciphertext going to the engine.
  const wsOptions = { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024, generateMask: (mask: Buffer) => mask.fill(0), ...(engine.headers ? { headers: { ...engine.headers } } : {}) };
  // Over a stream the URL still names a socket path (a placeholder; createConnection makes the connection):
  // VS Code's extension host patches http.request for its proxy support, and leaves requests with a socketPath alone.
  // The connection is made here, so that writes can be corked on it (see _writev below).
  const socket = (stream ?? net.connect({ path: socketPath })) as Socket;
  const ws = new WebSocket(stream ? `ws+unix:///berth:${route}` : `ws+unix://${socketPath}:${route}`, { ...wsOptions, createConnection: () => socket });
  return new Promise<Duplex>((resolve, reject) => {
    const onAbort = (): void => {
      ws.terminate();
      reject(new BerthError('cancelled', 'connecting to the agent was cancelled'));
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    ws.once('open', () => {
      options.signal?.removeEventListener('abort', onAbort);
      // The stream listens from the 'open' event on: the first messages may come with the upgrade's answer.
      const duplex = createWebSocketStream(ws);
      // ssh2 writes one SSH packet at a time; what piles up while a write is on its way leaves in one
      // system call, a message each (not copied into one: a copy, and garbage to collect, per byte).
      duplex._writev = (chunks, done) => {
        socket.cork();
        chunks.forEach((c, i) => ws.send(c.chunk as Buffer, { binary: true }, i === chunks.length - 1 ? done : undefined));
        socket.uncork();
      };
      // SSH has no use for a half-open connection, and ssh2 fails its channels only once its socket closes:
      // without this, a command's channel would wait forever on an agent that went away.
      duplex.once('end', () => duplex.destroy());
      resolve(duplex);
    });
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString('utf8')));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        reject(errorFromResponse(res.statusCode ?? 500, body));
      });
    });
    ws.once('error', (err: NodeJS.ErrnoException) => {
      const code = err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? 'unavailable' : 'internal';
      reject(new BerthError(code, `cannot reach the engine at ${socketPath}: ${err.message}`, { cause: err }));
    });
  });
}
