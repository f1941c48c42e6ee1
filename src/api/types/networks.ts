/**
 * Networks: bridge networks the engine makes (the default one, "bridge",
 * and user-defined ones), the endpoints containers have on them, and
 * published ports.
 */

/** The default network's name, as in Docker. */
export const DEFAULT_NETWORK = 'bridge';

export interface NetworkCreateRequest {
  readonly name: string;
  /** Only "bridge". */
  readonly driver?: string;
  /** "a.b.c.d/len"; absent: a free /24 is picked. */
  readonly subnet?: string;
  /** Default: the subnet's first address. */
  readonly gateway?: string;
  /** No NAT to the outside world. */
  readonly internal?: boolean;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface NetworkRecord {
  /** 64 hex characters. */
  readonly id: string;
  readonly name: string;
  readonly driver: 'bridge';
  /** The host bridge interface. */
  readonly bridge: string;
  readonly subnet: string;
  readonly gateway: string;
  readonly internal: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly created: string;
  /** Ids of the containers (any state) with an endpoint on it; filled by list and inspect. */
  readonly containers?: readonly string[];
}

/** A container's address on one network. */
export interface EndpointRecord {
  readonly networkId: string;
  readonly networkName: string;
  readonly ip: string;
  readonly prefixLen: number;
  readonly gateway: string;
  readonly mac: string;
  /** Names it answers to on this network besides its own name (user networks). */
  readonly aliases: readonly string[];
}

export type PortProtocol = 'tcp' | 'udp';

/** `-p [ip:]host:container[/proto]` after expansion of ranges. */
export interface PortBindingRequest {
  readonly containerPort: number;
  readonly protocol: PortProtocol;
  /** "" or "0.0.0.0": every address. */
  readonly hostIp: string;
  /** 0: a free port, chosen at start. */
  readonly hostPort: number;
  /** With a host range for one container port ("8000-8010:80"): the first free port of hostPort..hostPortEnd. */
  readonly hostPortEnd?: number;
}

/** A published port as it is bound now (the host port chosen). */
export type PortBinding = PortBindingRequest;

/** What a container's record holds about its network. */
export interface ContainerNetwork {
  /** "bridge" (with endpoints), "host", "none", "container:<id>". */
  readonly mode: 'bridge' | 'host' | 'none' | 'container';
  /** For mode "container": the container whose network namespace it joins. */
  readonly container?: string;
  readonly endpoints: readonly EndpointRecord[];
  /** The ports it publishes (a 0 host port stays 0 here). */
  readonly ports: readonly PortBindingRequest[];
  /** The ports as bound by the current run (host ports chosen); empty while not running. */
  readonly boundPorts: readonly PortBinding[];
  /** Ports the image or the request expose ("80/tcp"), for inspect. */
  readonly exposed: readonly string[];
}
