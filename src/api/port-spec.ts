/**
 * Published port specifications: `-p [ip:][host[-end]:]container[-end][/proto]`
 * (the docker run syntax) and "80/tcp" keys, parsed for the CLI and the engine.
 */
import { BerthError } from '../common/errors';
import type { PortBindingRequest, PortProtocol } from './types/networks';

export function port(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535) throw new BerthError('invalid_argument', `invalid ${what} port: ${text}`);
  return n;
}

export function range(text: string, what: string): [number, number] {
  const [a = '', b] = text.split('-');
  const start = port(a, what);
  const end = b === undefined ? start : port(b, what);
  if (end < start) throw new BerthError('invalid_argument', `invalid ${what} port range: ${text}`);
  return [start, end];
}

function protocol(text: string | undefined): PortProtocol {
  const p = (text ?? 'tcp').toLowerCase();
  if (p !== 'tcp' && p !== 'udp') throw new BerthError('invalid_argument', `unsupported protocol ${p}: use tcp or udp`);
  return p;
}

/** Host ports against container ports: one to one, or a host range for one container port. */
export function expand(hostIp: string, host: [number, number] | undefined, container: [number, number], proto: PortProtocol, spec: string): PortBindingRequest[] {
  const out: PortBindingRequest[] = [];
  const [cs, ce] = container;
  const count = ce - cs + 1;
  if (host && cs === ce && host[1] > host[0]) return [{ containerPort: cs, protocol: proto, hostIp, hostPort: host[0], hostPortEnd: host[1] }];
  if (host && host[1] - host[0] + 1 !== count) throw new BerthError('invalid_argument', `port ranges do not match in ${spec}`);
  for (let i = 0; i < count; i++) out.push({ containerPort: cs + i, protocol: proto, hostIp, hostPort: host ? host[0] + i : 0 });
  return out;
}

/** `docker run -p` syntax. */
export function parsePublish(spec: string): PortBindingRequest[] {
  const slash = spec.lastIndexOf('/');
  const proto = protocol(slash >= 0 ? spec.slice(slash + 1) : undefined);
  const body = slash >= 0 ? spec.slice(0, slash) : spec;
  const parts = body.startsWith('[') ? [body.slice(1, body.indexOf(']')), ...body.slice(body.indexOf(']') + 2).split(':')] : body.split(':');
  if (parts.length > 3 || parts.some((p, i) => p === '' && i !== 1)) throw new BerthError('invalid_argument', `invalid port specification: ${spec}`);
  const [a = '', b, c] = parts;
  if (parts.length === 1) return expand('', undefined, range(a, 'container'), proto, spec);
  if (parts.length === 2) return expand('', range(a, 'host'), range(b ?? '', 'container'), proto, spec);
  return expand(a, b ? range(b, 'host') : undefined, range(c ?? '', 'container'), proto, spec);
}

/** "80/tcp" -> [80, "tcp"]. */
export function parsePortKey(key: string): { port: number; protocol: PortProtocol } {
  const [p = '', proto] = key.split('/');
  return { port: port(p, 'container'), protocol: protocol(proto) };
}

