/**
 * The client side of GET /v1/containers/{id}/agent: a WebSocket over the
 * engine's unix socket, as a byte stream (SSH runs inside it). ws loads on
 * first use: other commands start faster.
 */
import type { Duplex } from 'node:stream';
import { BerthError } from '../common/errors';
import { errorFromResponse } from './http-errors';
import { fillPath, ROUTES } from './routes';

export async function openAgentStream(socketPath: string, id: string, options: { signal?: AbortSignal } = {}): Promise<Duplex> {
  options.signal?.throwIfAborted();
  const { createWebSocketStream, WebSocket } = await import('ws');
  const url = `ws+unix://${socketPath}:${fillPath(ROUTES.containerAgent.path, { id })}`;
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      ws.terminate();
      reject(new BerthError('cancelled', 'connecting to the agent was cancelled'));
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    ws.once('open', () => {
      options.signal?.removeEventListener('abort', onAbort);
      resolve();
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
  return createWebSocketStream(ws);
}
