/**
 * Docker's networking fields, both ways: PortBindings, PublishAllPorts,
 * ExposedPorts and NetworkingConfig aliases into a create request;
 * NetworkSettings, summary Ports and network records out. Pure functions.
 */
import type { ContainerCreateRequest, ContainerRecord } from '../../../api/types/containers';
import type { NetworkRecord } from '../../../api/types/networks';
import { dockerPorts, fromDockerPortBindings, type DockerPortBindings } from '../../network/ports';

export interface DockerNetworkingBody {
  ExposedPorts?: Record<string, object> | null;
  HostConfig?: { NetworkMode?: string; PortBindings?: DockerPortBindings | null; PublishAllPorts?: boolean; ExtraHosts?: string[] | null };
  NetworkingConfig?: { EndpointsConfig?: Record<string, { Aliases?: string[] | null } | null> | null } | null;
}

type NetworkFields = Pick<ContainerCreateRequest, 'networkMode' | 'networkAliases' | 'extraNetworks' | 'extraHosts' | 'ports' | 'publishAll' | 'exposedPorts'>;

export function networkFieldsFromDocker(body: DockerNetworkingBody): NetworkFields {
  const hc = body.HostConfig ?? {};
  const mode = hc.NetworkMode && hc.NetworkMode !== 'default' ? hc.NetworkMode : 'bridge';
  const endpoints = body.NetworkingConfig?.EndpointsConfig ?? {};
  const aliases = endpoints[mode]?.Aliases ?? endpoints[hc.NetworkMode ?? 'default']?.Aliases ?? [];
  // API 1.44: every network a container joins at create (compose), besides the mode's.
  const extra = Object.entries(endpoints)
    .filter(([name]) => name !== mode && name !== (hc.NetworkMode ?? 'default') && name !== 'default')
    .map(([name, e]) => ({ name, ...(e?.Aliases?.length ? { aliases: e.Aliases } : {}) }));
  const isBridge = mode !== 'host' && mode !== 'none' && !mode.startsWith('container:');
  const ports = fromDockerPortBindings(hc.PortBindings);
  const exposed = Object.keys(body.ExposedPorts ?? {});
  return {
    networkMode: mode,
    ...(aliases.length > 0 ? { networkAliases: aliases } : {}),
    ...(isBridge && extra.length > 0 ? { extraNetworks: extra } : {}),
    ...(hc.ExtraHosts?.length ? { extraHosts: hc.ExtraHosts } : {}),
    ...(ports.length > 0 ? { ports } : {}),
    ...(hc.PublishAllPorts ? { publishAll: true } : {}),
    ...(exposed.length > 0 ? { exposedPorts: exposed } : {}),
  };
}

const active = (c: ContainerRecord): boolean => c.state.status === 'running' || c.state.status === 'paused';

function endpointSettings(c: ContainerRecord): Record<string, unknown> {
  const n = c.network;
  if (!n) return {};
  if (n.mode === 'host' || n.mode === 'none') return { [n.mode]: { NetworkID: n.mode, EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '', Aliases: null, DNSNames: null } };
  return Object.fromEntries(
    n.endpoints.map((e) => [
      e.networkName,
      {
        IPAMConfig: null,
        Links: null,
        Aliases: e.aliases.length > 0 ? e.aliases : null,
        NetworkID: e.networkId,
        EndpointID: active(c) ? `${c.id.slice(0, 32)}${e.networkId.slice(0, 32)}` : '',
        Gateway: e.gateway,
        IPAddress: e.ip,
        IPPrefixLen: e.prefixLen,
        IPv6Gateway: '',
        GlobalIPv6Address: '',
        GlobalIPv6PrefixLen: 0,
        MacAddress: e.mac,
        DriverOpts: null,
        DNSNames: e.networkName === 'bridge' ? null : [c.name, ...e.aliases, c.id.slice(0, 12)],
      },
    ]),
  );
}

/** Docker's NetworkSettings of a container inspection. */
export function dockerNetworkSettings(c: ContainerRecord, netnsPath?: string): Record<string, unknown> {
  const n = c.network;
  const primary = n?.endpoints.find((e) => e.networkName === 'bridge');
  return {
    Bridge: '',
    SandboxID: active(c) && n && n.mode !== 'host' ? c.id : '',
    SandboxKey: active(c) && netnsPath ? netnsPath : '',
    HairpinMode: false,
    Ports: n ? dockerPorts(n.exposed, active(c) ? n.boundPorts : []) : {},
    Gateway: primary?.gateway ?? '',
    IPAddress: primary?.ip ?? '',
    IPPrefixLen: primary?.prefixLen ?? 0,
    MacAddress: primary?.mac ?? '',
    Networks: endpointSettings(c),
  };
}

/** `docker ps`'s Ports. */
export function dockerSummaryPorts(c: ContainerRecord): Record<string, unknown>[] {
  const n = c.network;
  if (!n) return [];
  const bound = active(c) ? n.boundPorts : [];
  const out: Record<string, unknown>[] = bound.map((b) => ({ IP: b.hostIp || '0.0.0.0', PrivatePort: b.containerPort, PublicPort: b.hostPort, Type: b.protocol }));
  for (const e of n.exposed) {
    const [port = '0', type = 'tcp'] = e.split('/');
    if (!bound.some((b) => b.containerPort === Number(port) && b.protocol === type)) out.push({ PrivatePort: Number(port), Type: type });
  }
  return out;
}

/** A network as `docker network inspect` shows it; `containers` are the records of those attached. */
export function dockerNetwork(n: NetworkRecord, containers: readonly ContainerRecord[]): Record<string, unknown> {
  const attached = Object.fromEntries(
    containers.flatMap((c) => {
      const e = c.network?.endpoints.find((x) => x.networkId === n.id);
      return e ? [[c.id, { Name: c.name, EndpointID: `${c.id.slice(0, 32)}${n.id.slice(0, 32)}`, MacAddress: e.mac, IPv4Address: `${e.ip}/${e.prefixLen}`, IPv6Address: '' }]] : [];
    }),
  );
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: 'local',
    Driver: n.driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: n.subnet, Gateway: n.gateway }] },
    Internal: n.internal,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: attached,
    // Docker shows a user network's options as given at its creation: none (docker-compose v1 compares them and would recreate the network).
    Options: n.name === 'bridge' ? { 'com.docker.network.bridge.default_bridge': 'true', 'com.docker.network.bridge.name': n.bridge } : {},
    Labels: n.labels,
  };
}

/** Docker's pseudo networks, listed beside the bridges. */
export function pseudoNetwork(name: 'host' | 'none'): Record<string, unknown> {
  return {
    Name: name,
    Id: name,
    Created: '0001-01-01T00:00:00Z',
    Scope: 'local',
    Driver: name === 'host' ? 'host' : 'null',
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [] },
    Internal: false,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: {},
    Options: {},
    Labels: {},
  };
}
