/**
 * The agent's SSH server: public-key authentication against the keys the
 * engine generated, then sessions (exec, pty, shell, sftp, ports, watch) and
 * direct-tcpip forwarding to ports inside the container.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { Server, type Connection } from 'ssh2';
import type { Logger } from '../../src/common/log';
import { pump } from '../../src/common/stream/pump';
import { checkPublicKey, type AuthorizedKey } from './auth';
import type { UserContext } from './process-env';
import { handleSession } from './session';

export interface AgentOptions {
  readonly hostKey: Buffer;
  readonly authorizedKeys: readonly AuthorizedKey[];
  readonly user: UserContext;
  readonly logger: Logger;
  readonly loadPty: () => typeof import('node-pty');
}

/**
 * What a forwarded socket queues before the channel waits for it: many SSH
 * packets can then leave in one writev. With node's 16 KiB the channel
 * paused after each 32 KiB packet, and the tunnel wrote one packet per turn
 * of the event loop.
 */
const FORWARD_BUFFER = 1 << 20;

function forwardTcp(connection: Connection, logger: Logger): void {
  connection.on('tcpip', (accept, reject, info) => {
    // Node takes the stream options of net.Socket here too; its types do not say so.
    const options: net.TcpNetConnectOpts & { writableHighWaterMark: number } = { host: info.destIP, port: info.destPort, writableHighWaterMark: FORWARD_BUFFER };
    const socket = net.connect(options);
    socket.once('connect', () => {
      const channel = accept();
      socket.setNoDelay(true);
      pump(channel, socket);
      pump(socket, channel);
      const close = (): void => {
        socket.destroy();
        channel.destroy();
      };
      socket.on('error', close);
      channel.on('error', close);
      channel.on('close', () => socket.destroy());
    });
    socket.once('error', (err) => {
      logger.debug('direct-tcpip refused', { host: info.destIP, port: info.destPort, error: err.message });
      reject();
    });
  });
}

export function createAgentServer(options: AgentOptions): Server {
  return new Server({ hostKeys: [options.hostKey], ident: 'Berth-Agent_1.0' }, (connection, info) => {
    const logger = options.logger.child({ client: info.header.versions.software });
    connection.on('authentication', (ctx) => {
      if (ctx.method === 'publickey' && checkPublicKey(ctx, options.authorizedKeys)) ctx.accept();
      else {
        if (ctx.method !== 'none') logger.warn('authentication refused', { method: ctx.method, user: ctx.username });
        ctx.reject(['publickey']);
      }
    });
    connection.on('ready', () => {
      connection.on('session', (accept) => handleSession(accept(), { user: options.user, logger, loadPty: options.loadPty }));
      forwardTcp(connection, logger);
    });
    connection.on('error', (err) => logger.debug('connection error', { error: err.message }));
  });
}

/** Serves one SSH connection over a byte stream (the agent's stdio, or a WebSocket bridge). */
export function serveStream(server: Server, stream: Duplex): void {
  const socketLike = Object.assign(stream, { remoteAddress: '127.0.0.1', remotePort: 0, remoteFamily: 'IPv4' });
  server.injectSocket(socketLike as unknown as net.Socket);
}
