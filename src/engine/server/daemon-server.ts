/**
 * The daemon's HTTP server on its unix socket. Disposing closes the socket
 * and waits for open requests (streams are cut); containers are untouched.
 */
import http from 'node:http';
import { unlink } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../common/log';
import { createRouter, type Handlers } from './router';
import { listenUnix } from './unix-socket';

export interface DaemonServer extends AsyncDisposable {
  readonly socketPath: string;
  close(): Promise<void>;
}

export type UpgradeListener = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;

export async function serveApi(socketPath: string, handlers: Handlers, logger: Logger, upgrade?: UpgradeListener): Promise<DaemonServer> {
  const server = http.createServer(createRouter(handlers, logger));
  if (upgrade) server.on('upgrade', upgrade);
  server.keepAliveTimeout = 5000;
  await listenUnix(server, socketPath);
  logger.info('API listening', { socket: socketPath });
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 2000).unref();
    }).then(() => unlink(socketPath).catch(() => undefined)));
  return { socketPath, close, [Symbol.asyncDispose]: close };
}
