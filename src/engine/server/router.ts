/**
 * The native API's HTTP router, built from the route table in src/api.
 * Handlers only translate HTTP into calls of the engine's services.
 */
import type http from 'node:http';
import { BerthError, toBerthError } from '../../common/errors';
import type { Logger } from '../../common/log';
import { errorBody, statusForCode } from '../../api/http-errors';
import { matchPath, ROUTES, type OperationName, type Operations } from '../../api/routes';

export interface HandlerInput<K extends OperationName> {
  readonly params: Operations[K]['params'];
  readonly query: Operations[K]['query'];
  readonly body: Operations[K]['body'];
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
}

export type Handler<K extends OperationName> = (
  input: HandlerInput<K>,
) => Promise<Operations[K]['response']> | AsyncIterable<Operations[K]['response']>;

export type Handlers = { readonly [K in OperationName]?: Handler<K> };

const MAX_BODY = 8 * 1024 * 1024;

async function readJsonBody(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new BerthError('invalid_argument', `request body larger than ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch (err) {
    throw new BerthError('invalid_argument', `request body is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

function sendError(res: http.ServerResponse, err: BerthError): void {
  if (res.headersSent) {
    // Inside a stream: the last line carries the error.
    res.end(`${JSON.stringify({ error: errorBody(err) })}\n`);
    return;
  }
  const body = JSON.stringify(errorBody(err));
  res.writeHead(statusForCode(err.code), { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

export function createRouter(handlers: Handlers, logger: Logger): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const table = (Object.keys(ROUTES) as OperationName[]).map((op) => ({ op, route: ROUTES[op] }));
  const dispatch = async (req: http.IncomingMessage, res: http.ServerResponse, signal: AbortSignal): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://berth');
    let found: { op: OperationName; params: Record<string, string> } | undefined;
    for (const { op, route } of table) {
      if (route.method !== req.method) continue;
      const params = matchPath(route.path, url.pathname);
      if (params) {
        found = { op, params };
        break;
      }
    }
    if (!found) throw new BerthError('not_found', `no such API route: ${req.method ?? '?'} ${url.pathname}`);
    const handler = handlers[found.op] as Handler<OperationName> | undefined;
    if (!handler) throw new BerthError('not_implemented', `${found.op} is not implemented by this engine`);
    const body = ROUTES[found.op].request === 'tar' ? req : await readJsonBody(req);
    const query = Object.fromEntries(url.searchParams.entries());
    const result = handler({ params: found.params, query, body, signal } as HandlerInput<OperationName>);
    if (isAsyncIterable(result)) {
      res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-cache' });
      res.flushHeaders();
      for await (const message of result) {
        if (signal.aborted) break;
        res.write(`${JSON.stringify(message)}\n`);
      }
      res.end();
      return;
    }
    const value = await result;
    const text = JSON.stringify(value ?? null);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  return (req, res) => {
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort(new BerthError('cancelled', 'client went away'));
    });
    dispatch(req, res, controller.signal).catch((err: unknown) => {
      const e = toBerthError(err);
      if (e.code === 'internal') logger.error('request failed', { method: req.method, url: req.url, error: e.message });
      else logger.debug('request refused', { method: req.method, url: req.url, code: e.code });
      if (!res.destroyed) sendError(res, e);
    });
  };
}
