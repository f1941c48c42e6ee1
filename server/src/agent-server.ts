/**
 * The agent's SSH server: public-key authentication against the keys the
 * engine generated, then sessions (exec, pty, shell, sftp, ports, watch) and
 * direct-tcpip forwarding to ports inside the container.
 */
import net from 'node:net';
import type { Duplex, Writable } from 'node:stream';
import { Server, type Connection } from 'ssh2';
import type { Logger } from '../../src/common/log';
import { offerClear } from '../../src/common/ssh-clear';
import { BatchWriter } from '../../src/common/stream/batch-writer';
import { pump } from '../../src/common/stream/pump';
import { checkPublicKey, type AuthorizedKey } from './auth';
import type { UserContext } from './process-env';
import { handleSession } from './session';
import { slabReads } from './slab-reads';
import type { SlabSource } from './slab-source';

export interface AgentOptions {
  readonly hostKey: Buffer;
  readonly authorizedKeys: readonly AuthorizedKey[];
  readonly user: UserContext;
  readonly logger: Logger;
  readonly loadPty: () => typeof import('node-pty');
  /** Slabs for the reads of forwarded sockets (the agent's, shared with its stdio). */
  readonly slabs?: SlabSource;
}

/**
 * What a forwarded socket queues before the channel waits for it: many SSH
 * packets can then leave in one writev. With node's 16 KiB the channel
 * paused after each 32 KiB packet, and the tunnel wrote one packet per turn
 * of the event loop.
 */
const FORWARD_BUFFER = 1 << 20;

/** Hands a socket's reads to a channel; false (the socket pauses) until the channel drains. */
function intoChannel(socket: net.Socket, channel: Writable): (chunk: Buffer) => boolean {
  const writer = new BatchWriter(channel);
  socket.once('end', () => channel.end());
  return (chunk) => {
    if (writer.write(chunk)) return true;
    channel.once('drain', () => socket.resume());
    return false;
  };
}

function forwardTcp(connection: Connection, logger: Logger, slabs: SlabSource | undefined): void {
  connection.on('tcpip', (accept, reject, info) => {
    // The socket reads into slabs, like the agent's stdio: a read takes what the kernel holds, not 64 KiB
    // (ssh2 copies the bytes into its packets). Reading starts after 'connect', where the channel is made.
    let deliver: (chunk: Buffer) => boolean = () => false;
    // Node takes the stream options of net.Socket here too; its types do not say so.
    const options: net.TcpNetConnectOpts & { writableHighWaterMark: number } = {
      host: info.destIP,
      port: info.destPort,
      writableHighWaterMark: FORWARD_BUFFER,
      onread: slabReads((chunk) => deliver(chunk), slabs),
    };
    let socket: net.Socket;
    try {
      socket = net.connect(options);
    } catch (err) {
      // A port past 65535 throws here, inside ssh2's parser, where it would end the whole connection.
      logger.debug('direct-tcpip refused', { host: info.destIP, port: info.destPort, error: (err as Error).message });
      reject();
      return;
    }
    socket.once('connect', () => {
      const channel = accept();
      socket.setNoDelay(true);
      pump(channel, socket);
      deliver = intoChannel(socket, channel);
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
  // A client that asks for it first gets the "none" cipher (src/common/ssh-clear.ts).
  return new Server({ hostKeys: [options.hostKey], ident: 'Berth-Agent_1.0', algorithms: offerClear() }, (connection, info) => {
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
      forwardTcp(connection, logger, options.slabs);
    });
    // ssh2 marks its own errors (the protocol's, the socket's) with a level, and a client's disconnect with its
    // reason code. One with neither is what a handler threw inside ssh2's parser: a bug of the agent's, which
    // ended the connection.
    connection.on('error', (err: Error & { level?: string; code?: number | string }) => {
      if (err.level || err.code !== undefined) logger.debug('connection error', { error: err.message, level: err.level, code: err.code });
      else logger.warn('the connection ended on an error of the agent', { error: err.message, stack: err.stack });
    });
  });
}

/** Serves one SSH connection over a byte stream (the agent's stdio, or a WebSocket bridge). */
export function serveStream(server: Server, stream: Duplex): void {
  const socketLike = Object.assign(stream, { remoteAddress: '127.0.0.1', remotePort: 0, remoteFamily: 'IPv4' });
  server.injectSocket(socketLike as unknown as net.Socket);
}
