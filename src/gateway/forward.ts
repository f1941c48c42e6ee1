/** One request forwarded to the engine's socket as it is, and its answer streamed back. */
import http from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError } from '../common/errors';

const MAX_BODY = 8 * 1024 * 1024;

/** A request's whole body (JSON requests are small). */
export async function readBody(req: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new BerthError('invalid_argument', `request body larger than ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export interface ForwardRequest {
  readonly method: string;
  /** Path and query. */
  readonly path: string;
  /** JSON text, or a stream (a build context) sent as it comes. */
  readonly body?: Buffer | Readable;
  readonly contentType?: string;
}

export function forward(socketPath: string, request: ForwardRequest, res: http.ServerResponse, signal: AbortSignal, onEnd?: () => void): Promise<void> {
  const headers: Record<string, string | number> = {};
  if (request.contentType) headers['content-type'] = request.contentType;
  if (Buffer.isBuffer(request.body)) headers['content-length'] = request.body.length;
  return new Promise<void>((resolve, reject) => {
    const up = http.request({ socketPath, method: request.method, path: request.path, headers, signal }, (answer) => {
      const keep: Record<string, string> = {};
      for (const name of ['content-type', 'content-length', 'cache-control']) {
        const v = answer.headers[name];
        if (typeof v === 'string') keep[name] = v;
      }
      res.writeHead(answer.statusCode ?? 502, keep);
      res.flushHeaders();
      pipeline(answer, res).then(resolve, (err: unknown) => (signal.aborted ? resolve() : reject(err as Error)));
    });
    up.on('close', () => onEnd?.());
    up.on('error', (err: NodeJS.ErrnoException) => {
      if (signal.aborted) resolve();
      else reject(new BerthError('unavailable', `the engine behind the gateway cannot be reached: ${err.message}`, { cause: err }));
    });
    if (request.body === undefined) up.end();
    else if (Buffer.isBuffer(request.body)) up.end(request.body);
    else pipeline(request.body, up).catch((err: unknown) => up.destroy(err as Error));
  });
}
