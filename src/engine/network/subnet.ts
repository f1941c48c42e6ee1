/** IPv4 subnets as numbers: parse, print, contain, overlap, the n-th address. */
import { BerthError } from '../../common/errors';

export interface Subnet {
  /** The network address as an unsigned 32-bit number. */
  readonly base: number;
  readonly prefixLen: number;
}

export function parseIp(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new BerthError('invalid_argument', `invalid IPv4 address: ${text}`);
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function formatIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (Math.floor(n / 2 ** s) % 256).toString()).join('.');
}

const size = (prefixLen: number): number => 2 ** (32 - prefixLen);

export function parseSubnet(text: string): Subnet {
  const [ip = '', len = ''] = text.split('/');
  const prefixLen = Number(len);
  if (!/^\d{1,2}$/.test(len) || prefixLen < 8 || prefixLen > 30) throw new BerthError('invalid_argument', `invalid subnet ${text}: use a.b.c.d/len with len 8 to 30`);
  const addr = parseIp(ip);
  return { base: addr - (addr % size(prefixLen)), prefixLen };
}

export const formatSubnet = (s: Subnet): string => `${formatIp(s.base)}/${s.prefixLen}`;

export function contains(s: Subnet, ip: number): boolean {
  return ip >= s.base && ip < s.base + size(s.prefixLen);
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  return a.base < b.base + size(b.prefixLen) && b.base < a.base + size(a.prefixLen);
}

/** The usable host addresses: base+1 .. broadcast-1. */
export function hostRange(s: Subnet): { first: number; last: number } {
  return { first: s.base + 1, last: s.base + size(s.prefixLen) - 2 };
}

/** Docker's MAC for an address: 02:42 then the four octets. */
export function macFor(ip: number): string {
  return ['02', '42', ...formatIp(ip).split('.').map((o) => Number(o).toString(16).padStart(2, '0'))].join(':');
}

/** Candidate /24 subnets for new networks: 10.200.0.0/24 .. 10.215.255.0/24, starting at `start`. */
export function* candidateSubnets(start: number): Generator<Subnet> {
  const count = 16 * 256;
  const base = parseIp('10.200.0.0');
  for (let i = 0; i < count; i++) yield { base: base + ((start + i) % count) * 256, prefixLen: 24 };
}
