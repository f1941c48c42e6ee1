/**
 * Published ports through a userland proxy in berthd: a TCP listener (or a
 * UDP socket) on the host port that forwards to the container's address.
 * It serves the host's loopback and every host address alike, which kernel
 * DNAT cannot do for 127.0.0.1 without route_localnet. TCP goes through
 * berth-proxy (C, splice(2), one process per port, dies with berthd) when
 * its binary is given, else through node's net module; UDP through dgram.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import type { PortBinding, PortBindingRequest } from '../../api/types/networks';
import { BerthError } from '../../common/errors';

export interface PortProxy {
  readonly binding: PortBinding;
  close(): Promise<void>;
}

const UDP_IDLE_MS = 90_000;

const where = (b: PortBindingRequest, port: number): string => `${b.hostIp || '0.0.0.0'}:${port}/${b.protocol}`;

function bindError(b: PortBindingRequest, port: number, err: NodeJS.ErrnoException): BerthError {
  if (err.code === 'EADDRINUSE') {
    return new BerthError('conflict', `cannot publish port ${where(b, port)}: port ${port} is already in use on the host`, { cause: err, details: { port, protocol: b.protocol, hostIp: b.hostIp } });
  }
  if (err.code === 'EADDRNOTAVAIL') return new BerthError('invalid_argument', `cannot publish port ${where(b, port)}: ${b.hostIp} is not an address of this host`, { cause: err, details: { port } });
  return new BerthError('internal', `cannot publish port ${where(b, port)}: ${err.message}`, { cause: err, details: { port } });
}

function listenTcp(b: PortBindingRequest, port: number, target: { ip: string; port: number }, conns: Set<net.Socket>): Promise<net.Server> {
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const upstream = net.connect({ host: target.ip, port: target.port, allowHalfOpen: true, noDelay: true });
    conns.add(client);
    conns.add(upstream);
    const done = (): void => {
      client.destroy();
      upstream.destroy();
      conns.delete(client);
      conns.delete(upstream);
    };
    client.on('error', done);
    upstream.on('error', done);
    client.on('close', () => (upstream.writableEnded ? done() : undefined));
    upstream.on('close', () => (client.writableEnded ? done() : undefined));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(bindError(b, port, err)));
    server.listen({ host: b.hostIp || '0.0.0.0', port, exclusive: true }, () => resolve(server));
  });
}

function listenUdp(b: PortBindingRequest, port: number, target: { ip: string; port: number }): Promise<{ socket: dgram.Socket; close: () => void }> {
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: false });
  const sessions = new Map<string, { upstream: dgram.Socket; timer: NodeJS.Timeout }>();
  const drop = (key: string): void => {
    const s = sessions.get(key);
    if (!s) return;
    clearTimeout(s.timer);
    s.upstream.close();
    sessions.delete(key);
  };
  socket.on('message', (msg, rinfo) => {
    const key = `${rinfo.address}:${rinfo.port}`;
    let s = sessions.get(key);
    if (!s) {
      const upstream = dgram.createSocket('udp4');
      upstream.on('message', (reply) => socket.send(reply, rinfo.port, rinfo.address));
      upstream.on('error', () => drop(key));
      s = { upstream, timer: setTimeout(() => drop(key), UDP_IDLE_MS) };
      sessions.set(key, s);
    }
    s.timer.refresh();
    s.upstream.send(msg, target.port, target.ip);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', (err: NodeJS.ErrnoException) => reject(bindError(b, port, err)));
    socket.bind({ address: b.hostIp || '0.0.0.0', port, exclusive: true }, () => {
      socket.on('error', () => undefined);
      resolve({
        socket,
        close: () => {
          for (const k of [...sessions.keys()]) drop(k);
          socket.close();
        },
      });
    });
  });
}

/** A berth-proxy process for one TCP port: its first line says "ok PORT" or "error NAME message". */
function spawnTcpProxy(binary: string, b: PortBindingRequest, port: number, target: { ip: string; port: number }): Promise<PortProxy> {
  const child = spawn(binary, [b.hostIp || '0.0.0.0', String(port), target.ip, String(target.port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.once('error', (e) => reject(new BerthError('internal', `cannot run ${binary}: ${e.message}`, { cause: e })));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      const [word = '', arg = '', ...rest] = out.slice(0, nl).split(' ');
      child.stdout.removeAllListeners('data');
      child.stdout.resume();
      if (word === 'ok') {
        resolve({
          binding: { ...b, hostPort: Number(arg), hostPortEnd: undefined },
          close: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
            await exited;
          },
        });
      } else {
        const e = Object.assign(new Error(rest.join(' ')), { code: arg });
        reject(bindError(b, port, e));
      }
    });
    child.once('exit', (code) => reject(new BerthError('internal', `berth-proxy exited (${String(code)}) before binding ${where(b, port)}: ${err.trim()}`)));
  });
}

async function openOne(b: PortBindingRequest, port: number, target: { ip: string; port: number }, proxyBinary?: string): Promise<PortProxy> {
  if (b.protocol === 'tcp' && proxyBinary && !(b.hostIp || '').includes(':')) return spawnTcpProxy(proxyBinary, b, port, target);
  if (b.protocol === 'udp') {
    const u = await listenUdp(b, port, target);
    return { binding: { ...b, hostPort: u.socket.address().port, hostPortEnd: undefined }, close: () => Promise.resolve(u.close()) };
  }
  const conns = new Set<net.Socket>();
  const server = await listenTcp(b, port, target, conns);
  return {
    binding: { ...b, hostPort: (server.address() as net.AddressInfo).port, hostPortEnd: undefined },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of conns) c.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Binds a published port (a free one for host port 0, the first free of a host range) and forwards it to target. */
export async function openPortProxy(b: PortBindingRequest, target: { ip: string; port: number }, proxyBinary?: string): Promise<PortProxy> {
  if (b.hostPortEnd === undefined || b.hostPortEnd <= b.hostPort) return openOne(b, b.hostPort, target, proxyBinary);
  let last: unknown;
  for (let port = b.hostPort; port <= b.hostPortEnd; port++) {
    try {
      return await openOne(b, port, target, proxyBinary);
    } catch (err) {
      if (!BerthError.is(err, 'conflict')) throw err;
      last = err;
    }
  }
  throw new BerthError('conflict', `cannot publish ${b.containerPort}/${b.protocol}: every port of ${b.hostPort}-${b.hostPortEnd} is in use on the host`, { cause: last, details: { port: b.hostPort } });
}
