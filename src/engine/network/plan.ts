/**
 * A container's network as decided at create: its mode, the network
 * namespace the runtime joins, the published and exposed ports.
 */
import type { ContainerCreateRequest } from '../../api/types/containers';
import type { PortBindingRequest } from '../../api/types/networks';
import { DEFAULT_NETWORK } from '../../api/types/networks';
import { BerthError } from '../../common/errors';
import { parsePortKey } from './ports';

export type ModeChoice = { readonly mode: 'host' } | { readonly mode: 'none' } | { readonly mode: 'container'; readonly target: string } | { readonly mode: 'bridge'; readonly network: string };

export function parseNetworkMode(text: string | undefined): ModeChoice {
  const mode = text === undefined || text === '' || text === 'default' ? DEFAULT_NETWORK : text;
  if (mode === 'host') return { mode: 'host' };
  if (mode === 'none') return { mode: 'none' };
  if (mode.startsWith('container:')) {
    const target = mode.slice('container:'.length);
    if (!target) throw new BerthError('invalid_argument', 'network mode container: needs a container name or id');
    return { mode: 'container', target };
  }
  return { mode: 'bridge', network: mode };
}

/** Exposed ports, "80/tcp", from the image and the request, sorted and unique. */
export function exposedPorts(request: ContainerCreateRequest, image: Readonly<Record<string, object>> | undefined): string[] {
  const keys = [...Object.keys(image ?? {}), ...(request.exposedPorts ?? []), ...(request.ports ?? []).map((p) => `${p.containerPort}/${p.protocol}`)];
  const norm = keys.map((k) => {
    const { port, protocol } = parsePortKey(k);
    return `${port}/${protocol}`;
  });
  return [...new Set(norm)].sort((a, b) => parseInt(a, 10) - parseInt(b, 10) || a.localeCompare(b));
}

/** The ports to publish: `ports`, and with publishAll every exposed port not already published, on a free host port. */
export function publishedPorts(request: ContainerCreateRequest, exposed: readonly string[]): PortBindingRequest[] {
  const out = [...(request.ports ?? [])];
  if (request.publishAll) {
    for (const e of exposed) {
      const { port, protocol } = parsePortKey(e);
      if (!out.some((p) => p.containerPort === port && p.protocol === protocol)) out.push({ containerPort: port, protocol, hostIp: '', hostPort: 0 });
    }
  }
  return out;
}
