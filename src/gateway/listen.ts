/** `--listen HOST:PORT`, and whether an address is loopback (where plain HTTP is allowed). */
import net from 'node:net';
import { BerthError } from '../common/errors';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export function parseListen(text: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) throw new BerthError('invalid_argument', `--listen ${text}: expected HOST:PORT (e.g. 127.0.0.1:8443, 0.0.0.0:443, [::1]:8443)`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  return /^::ffff:127\./i.test(host);
}
