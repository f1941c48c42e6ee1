/**
 * The agent's WebSocket through the gateway: once the user is known and the
 * container is theirs, the upgrade request goes to the engine's socket as it
 * is (the WebSocket handshake included) and bytes are carried both ways.
 * The session keeps the container from idling.
 */
import type http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { fillPath, ROUTES } from '../api/routes';
import { BerthError } from '../common/errors';

const PASS = ['sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol', 'sec-websocket-extensions'];

export function proxyAgentUpgrade(socketPath: string, id: string, req: http.IncomingMessage, client: Duplex, head: Buffer, onEnd: () => void): void {
  const upstream = net.connect(socketPath);
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    onEnd();
    upstream.destroy();
    client.destroy();
  };
  upstream.once('connect', () => {
    const lines = [`GET ${fillPath(ROUTES.containerAgent.path, { id })} HTTP/1.1`, 'Host: berth', 'Connection: Upgrade', 'Upgrade: websocket'];
    for (const name of PASS) {
      const v = req.headers[name];
      if (typeof v === 'string') lines.push(`${name}: ${v}`);
    }
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on('error', (err) => {
    if (!ended && client.writable) {
      const e = new BerthError('unavailable', `the engine behind the gateway cannot be reached: ${err.message}`);
      const body = JSON.stringify({ code: e.code, message: e.message });
      client.end(`HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    }
    end();
  });
  upstream.on('close', end);
  client.on('error', end);
  client.on('close', end);
}
