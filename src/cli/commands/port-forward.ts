/**
 * `berth port-forward CONTAINER [ADDR:]LOCAL:REMOTE...`: listens on the host
 * and carries each connection to 127.0.0.1:REMOTE inside the container
 * through the agent (SSH direct-tcpip). LOCAL 0 picks a free port. Prints
 * one JSON result with the ports once listening, then runs until stopped.
 */
import net from 'node:net';
import { BerthError } from '../../common/errors';
import { stringOption, type Command } from '../command';
import { ENGINE_OPTIONS, engineClient } from '../engine-client';
import { connectAgent } from '../../api/agent-ssh';

export interface ForwardSpec {
  readonly address: string;
  readonly local: number;
  readonly remote: number;
}

export function parseForward(text: string, defaultAddress: string): ForwardSpec {
  const m = /^(?:(\[[^\]]+\]|[^:]+):)?(\d+):(\d+)$/.exec(text);
  const port = (s: string | undefined, zero: boolean): number => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < (zero ? 0 : 1) || n > 65535) throw new BerthError('invalid_argument', `invalid port in "${text}"`);
    return n;
  };
  if (!m) throw new BerthError('invalid_argument', `expected [ADDRESS:]LOCAL:REMOTE, got "${text}"`);
  return { address: (m[1] ?? defaultAddress).replace(/^\[|\]$/g, ''), local: port(m[2], true), remote: port(m[3], false) };
}

export const portForwardCommand: Command = {
  name: 'port-forward',
  summary: 'Forward local ports to ports inside a container, through its agent.',
  usage: 'port-forward CONTAINER [ADDRESS:]LOCAL:REMOTE...',
  allowPositionals: true,
  options: {
    ...ENGINE_OPTIONS,
    address: { type: 'string', valueName: 'ADDR', description: 'Local address to listen on (default 127.0.0.1).' },
  },
  async run(values, positionals, ctx) {
    const [container, ...specs] = positionals;
    if (!container || specs.length === 0) throw new BerthError('invalid_argument', `usage: berth ${this.usage}`);
    const forwards = specs.map((s) => parseForward(s, stringOption(values, 'address') ?? '127.0.0.1'));
    const { client, credentials } = await connectAgent(engineClient(values, ctx.env), container, { signal: ctx.signal });
    const servers: net.Server[] = [];
    const listening: { address: string; local: number; remote: number }[] = [];
    try {
      for (const f of forwards) {
        const server = net.createServer((socket) => {
          client.forwardOut(socket.remoteAddress ?? '127.0.0.1', socket.remotePort ?? 0, '127.0.0.1', f.remote, (err, channel) => {
            if (err) {
              ctx.logger.warn(`cannot reach port ${f.remote} in ${credentials.name}: ${err.message}`);
              socket.destroy();
              return;
            }
            socket.pipe(channel).pipe(socket);
            socket.on('error', () => channel.close());
            channel.on('error', () => socket.destroy());
          });
        });
        await new Promise<void>((resolve, reject) => {
          server.once('error', (err: NodeJS.ErrnoException) =>
            reject(new BerthError(err.code === 'EADDRINUSE' ? 'conflict' : 'unavailable', `cannot listen on ${f.address}:${f.local}: ${err.message}`)),
          );
          server.listen(f.local, f.address, () => resolve());
        });
        servers.push(server);
        listening.push({ address: f.address, local: (server.address() as net.AddressInfo).port, remote: f.remote });
      }
      ctx.result({ outcome: 'success', container: credentials.name, forwards: listening });
      for (const l of listening) ctx.logger.info(`forwarding ${l.address}:${l.local} -> ${credentials.name}:${l.remote}`);
      await new Promise<void>((resolve) => {
        ctx.signal.addEventListener('abort', () => resolve(), { once: true });
        client.once('close', () => resolve());
      });
      return 0;
    } finally {
      for (const s of servers) s.close();
      client.end();
    }
  },
};
