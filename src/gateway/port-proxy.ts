/**
 * Forwarded web ports: /gw/containers/{id}/ports/{port}/PATH is proxied to
 * http://127.0.0.1:{port}/PATH inside the container, through its agent (SSH
 * direct-tcpip), so a dev server is reachable without publishing a port.
 * One agent connection per container serves all requests and closes after
 * a minute unused. The gateway's token and cookie never reach the app.
 */
import http from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Client, ClientChannel } from 'ssh2';
import type { ApiClient } from '../api/client';
import { BerthError } from '../common/errors';
import { agentClient } from './agent-client';

const KEEP_MS = 60_000;
const DROP = new Set(['authorization', 'cookie', 'host', 'connection', 'upgrade', 'proxy-connection', 'keep-alive', 'transfer-encoding']);

export const PORT_PATH = /^\/gw\/containers\/([^/]+)\/ports\/(\d{1,5})(\/.*)?$/;

export class AgentPool {
  private readonly clients = new Map<string, { client: Promise<Client>; timer?: NodeJS.Timeout }>();

  constructor(private readonly engine: ApiClient) {}

  private get(id: string): Promise<Client> {
    let entry = this.clients.get(id);
    if (!entry) {
      const client = agentClient(this.engine, id, new AbortController().signal);
      entry = { client };
      this.clients.set(id, entry);
      client.then(
        (c) => c.once('close', () => this.clients.delete(id)),
        () => this.clients.delete(id),
      );
    }
    if (entry.timer) clearTimeout(entry.timer);
    const e = entry;
    e.timer = setTimeout(() => {
      this.clients.delete(id);
      void e.client.then((c) => c.end(), () => undefined);
    }, KEEP_MS);
    e.timer.unref();
    return entry.client;
  }

  async forward(id: string, port: number): Promise<ClientChannel> {
    const client = await this.get(id);
    return new Promise((resolve, reject) =>
      client.forwardOut('127.0.0.1', 0, '127.0.0.1', port, (err, channel) => (err ? reject(new BerthError('unavailable', `nothing answers on port ${port} in the container: ${err.message}`)) : resolve(channel))),
    );
  }

  close(): void {
    for (const [id, e] of this.clients) {
      if (e.timer) clearTimeout(e.timer);
      void e.client.then((c) => c.end(), () => undefined);
      this.clients.delete(id);
    }
  }
}

export async function proxyPort(pool: AgentPool, id: string, port: number, rest: string, req: http.IncomingMessage, res: http.ServerResponse, signal: AbortSignal): Promise<void> {
  if (port < 1 || port > 65535) throw new BerthError('invalid_argument', `invalid port ${port}`);
  const channel = await pool.forward(id, port);
  const headers: Record<string, string | string[]> = { host: `127.0.0.1:${port}`, connection: 'close' };
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !DROP.has(k)) headers[k] = v;
  await new Promise<void>((resolve, reject) => {
    const up = http.request({ createConnection: () => channel, method: req.method ?? 'GET', path: rest, headers, signal }, (answer) => {
      const back: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(answer.headers)) if (v !== undefined && !['connection', 'keep-alive', 'transfer-encoding', 'set-cookie'].includes(k)) back[k] = v;
      res.writeHead(answer.statusCode ?? 502, back);
      pipeline(answer, res).then(resolve, () => resolve());
    });
    up.on('error', (err) => (signal.aborted ? resolve() : reject(new BerthError('unavailable', `port ${port} in the container: ${err.message}`, { cause: err }))));
    pipeline(req, up).catch(() => undefined);
  });
}
