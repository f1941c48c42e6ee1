/**
 * Docker's PortBindings and the inspect shape of published ports.
 */
import type { PortBinding, PortBindingRequest } from '../../api/types/networks';
import { expand, parsePortKey, range } from '../../api/port-spec';

export { parsePublish, parsePortKey } from '../../api/port-spec';

export type DockerPortBindings = Record<string, { HostIp?: string; HostPort?: string }[] | null>;

export function fromDockerPortBindings(bindings: DockerPortBindings | null | undefined): PortBindingRequest[] {
  const out: PortBindingRequest[] = [];
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const { port: containerPort, protocol: proto } = parsePortKey(key);
    for (const b of list ?? [{}]) {
      const hostIp = b.HostIp ?? '';
      const host = b.HostPort && b.HostPort !== '0' ? range(b.HostPort, 'host') : undefined;
      out.push(...expand(hostIp, host, [containerPort, containerPort], proto, `${key} -> ${b.HostPort ?? ''}`));
    }
  }
  return out;
}

/** Docker's NetworkSettings.Ports: every exposed or published port, with its host bindings (null when not published). */
export function dockerPorts(exposed: readonly string[], bound: readonly PortBinding[]): Record<string, { HostIp: string; HostPort: string }[] | null> {
  const out: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  for (const e of exposed) out[e.includes('/') ? e : `${e}/tcp`] = null;
  for (const b of bound) {
    const key = `${b.containerPort}/${b.protocol}`;
    out[key] = [...(out[key] ?? []), { HostIp: b.hostIp || '0.0.0.0', HostPort: String(b.hostPort) }];
  }
  return out;
}
