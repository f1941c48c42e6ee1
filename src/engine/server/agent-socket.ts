/**
 * GET /v1/containers/{id}/agent with `Upgrade: websocket`: starts an agent
 * in the container that speaks SSH in the WebSocket's binary messages. The
 * agent authenticates the client itself; errors before the upgrade are plain
 * HTTP answers with a JSON body.
 *
 * A plain connection (a unix or TCP socket, nothing read past the request)
 * is handed to the agent as its stdio: the agent answers the upgrade and the
 * tunnel's bytes never pass through berthd or the shim. Any other (TLS, a
 * stream from elsewhere) is bridged: berthd terminates the WebSocket and
 * pumps it to the agent's stdio.
 */
import { createHash } from 'node:crypto';
import type http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { matchPath, ROUTES } from '../../api/routes';
import { errorBody, statusForCode } from '../../api/http-errors';
import { BerthError } from '../../common/errors';
import type { Logger } from '../../common/log';
import type { AgentConnection } from '../agent/service';
import type { ExecSession } from '../containers/exec';

export interface AgentOpener {
  open(idOrName: string, options?: { signal?: AbortSignal; connection?: AgentConnection }): Promise<ExecSession>;
}

const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

interface Handle {
  fd?: number;
  reading?: boolean;
  readStop?: () => number;
}

/** The connection as the agent can take it over, or undefined when it must be bridged. */
function handOver(req: http.IncomingMessage, socket: Duplex, head: Buffer): AgentConnection | undefined {
  if (head.length > 0 || !(socket instanceof net.Socket) || socket instanceof tls.TLSSocket) return undefined;
  const handle = (socket as unknown as { _handle?: Handle })._handle;
  if (typeof handle?.fd !== 'number' || handle.fd < 0 || typeof handle.readStop !== 'function') return undefined;
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || !/^[+/0-9A-Za-z]{22}==$/.test(key) || req.headers['sec-websocket-version'] !== '13') return undefined;
  // What the client sends from now on is the agent's to read: stop reading here (node would buffer up to 16 KiB).
  handle.reading = false;
  if (handle.readStop() !== 0) return undefined;
  const accept = createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64');
  const protocol = req.headers['sec-websocket-protocol']?.split(',')[0]?.trim();
  return { socket, accept, ...(protocol ? { protocol } : {}) };
}

/** Logs the agent's stderr until it exits. */
function watchAgent(session: ExecSession, logger: Logger): void {
  void (async () => {
    for await (const chunk of session.output()) logger.debug('agent output', { stream: chunk.stream, text: chunk.data.toString('utf8').slice(0, 2000) });
  })().catch((err: unknown) => logger.warn('agent output failed', { error: String(err) }));
}

function refuse(socket: Duplex, err: unknown): void {
  const e = BerthError.is(err) ? err : new BerthError('internal', err instanceof Error ? err.message : String(err));
  const status = statusForCode(e.code);
  const body = JSON.stringify(errorBody(e));
  socket.end(`HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Bytes the bridge queues towards the client before it waits for the socket. */
const SEND_AHEAD = 1 << 20;

/** Pumps the session both ways until either side ends. */
export function bridgeAgent(ws: WebSocket, session: ExecSession, logger: Logger): void {
  let exited = false;
  void session.exit.then(
    (code) => {
      exited = true;
      ws.close(1000, `agent exited (${code})`);
    },
    () => ws.close(1011, 'agent failed'),
  );
  ws.on('message', (data) => session.write(toBuffer(data)));
  ws.on('close', () => {
    if (exited) return;
    session.closeStdin();
    // An agent that does not leave once its client went away is stopped.
    setTimeout(() => {
      if (!exited) session.kill(9);
    }, 5000).unref();
  });
  void (async () => {
    for await (const chunk of session.output()) {
      if (chunk.stream === 'stderr') {
        logger.debug('agent stderr', { text: chunk.data.toString('utf8').slice(0, 2000) });
        continue;
      }
      if (ws.readyState !== ws.OPEN) break;
      // Backpressure towards the agent: wait for the socket to take what is queued once there is plenty.
      if (ws.bufferedAmount < SEND_AHEAD) ws.send(chunk.data, { binary: true });
      else await new Promise<void>((resolve) => ws.send(chunk.data, { binary: true }, () => resolve()));
    }
  })().catch((err: unknown) => logger.warn('agent bridge failed', { error: String(err) }));
}

/** The `upgrade` listener of the native API server. */
export function agentUpgradeHandler(agent: AgentOpener, logger: Logger): (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
  return (req, socket, head) => {
    const pathname = new URL(req.url ?? '/', 'http://berth').pathname;
    const params = matchPath(ROUTES.containerAgent.path, pathname);
    if (!params?.['id'] || req.method !== 'GET' || req.headers.upgrade?.toLowerCase() !== 'websocket') {
      refuse(socket, new BerthError('not_found', `no upgrade at ${req.method ?? ''} ${pathname}`));
      return;
    }
    const id = params['id'];
    const connection = handOver(req, socket, head);
    if (connection) {
      agent.open(id, { connection }).then(
        (session) => {
          // The shim passed the connection on; the agent holds it now.
          socket.destroy();
          watchAgent(session, logger);
        },
        (err: unknown) => refuse(socket, err),
      );
      return;
    }
    agent.open(id).then(
      (session) => {
        wss.handleUpgrade(req, socket, head, (ws) => bridgeAgent(ws, session, logger));
      },
      (err: unknown) => refuse(socket, err),
    );
  };
}
