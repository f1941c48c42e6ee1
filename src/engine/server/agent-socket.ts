/**
 * GET /v1/containers/{id}/agent with `Upgrade: websocket`: starts an agent
 * in the container and bridges the WebSocket (binary messages) to its stdio,
 * which speaks SSH. The agent authenticates the client itself; errors before
 * the upgrade are plain HTTP answers with a JSON body.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { matchPath, ROUTES } from '../../api/routes';
import { errorBody, statusForCode } from '../../api/http-errors';
import { BerthError } from '../../common/errors';
import type { Logger } from '../../common/log';
import type { ExecSession } from '../containers/exec';

export interface AgentOpener {
  open(idOrName: string, options?: { signal?: AbortSignal }): Promise<ExecSession>;
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
    agent.open(id).then(
      (session) => {
        wss.handleUpgrade(req, socket, head, (ws) => bridgeAgent(ws, session, logger));
      },
      (err: unknown) => refuse(socket, err),
    );
  };
}
