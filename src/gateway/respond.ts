/** The gateway's own answers: JSON bodies, errors with their HTTP status, upgrades refused on the raw socket. */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { errorBody, statusForCode } from '../api/http-errors';
import { toBerthError } from '../common/errors';

export function sendJson(res: http.ServerResponse, status: number, value: unknown, headers: Readonly<Record<string, string | string[]>> = {}): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

export function sendError(res: http.ServerResponse, err: unknown, retryAfterMs?: number): void {
  const e = toBerthError(err);
  if (res.headersSent) {
    res.end(`${JSON.stringify({ error: errorBody(e) })}\n`);
    return;
  }
  sendJson(res, statusForCode(e.code), errorBody(e), retryAfterMs ? { 'retry-after': String(Math.ceil(retryAfterMs / 1000)) } : {});
}

export function refuseUpgrade(socket: Duplex, err: unknown, retryAfterMs?: number): void {
  const e = toBerthError(err);
  const status = statusForCode(e.code);
  const body = JSON.stringify(errorBody(e));
  const retry = retryAfterMs ? `Retry-After: ${Math.ceil(retryAfterMs / 1000)}\r\n` : '';
  socket.end(`HTTP/1.1 ${status} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${retry}Connection: close\r\n\r\n${body}`);
}
