/** Small HTTP helpers the Docker route files share: JSON replies, query flags, hijacked streams. */
import type http from 'node:http';
import type { Duplex } from 'node:stream';

/** Where a handler writes: the request, and the raw socket when the client asked to upgrade. */
export interface HijackContext {
  readonly req: http.IncomingMessage;
  readonly res: http.ServerResponse;
  readonly upgradeSocket?: Duplex;
}

export function send(res: http.ServerResponse, status: number, value?: unknown): void {
  if (value === undefined) {
    res.writeHead(status);
    res.end();
    return;
  }
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export const truthy = (v: string | null | undefined): boolean => v === '1' || v === 'true' || v === 'True';

/** Writes the 101 response on a hijacked connection (attach, exec start), then returns the raw socket. */
export function hijack(ctx: HijackContext, tty: boolean): Duplex {
  const upgrade = ctx.upgradeSocket !== undefined;
  const socket = ctx.upgradeSocket ?? ctx.req.socket;
  if (!upgrade) ctx.res.detachSocket(ctx.req.socket);
  socket.write(
    upgrade
      ? `HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.${tty ? 'raw' : 'multiplexed'}-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`
      : `HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.${tty ? 'raw' : 'multiplexed'}-stream\r\n\r\n`,
  );
  return socket;
}
