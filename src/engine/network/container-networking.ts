/**
 * What the container verbs ask of networking. create: plan (mode, address,
 * etc files); start: up (namespace, veths, published ports) before the
 * runtime runs; exit: down; remove: release (addresses). changed() rewrites
 * the /etc/hosts of containers on user networks after the records changed.
 */
import type { ContainerCreateRequest, ContainerRecord } from '../../api/types/containers';
import type { ContainerNetwork } from '../../api/types/networks';
import type { EtcFiles } from '../oci/spec';

export interface NetworkPlanInput {
  readonly id: string;
  readonly name: string;
  /** The container's directory (its etc files go there). */
  readonly dir: string;
  readonly request: ContainerCreateRequest;
  readonly hostname: string;
  readonly imageExposedPorts?: Readonly<Record<string, object>>;
}

export interface NetworkPlan {
  /** "host", or a network namespace file to join. */
  readonly netns: string;
  readonly etcFiles: EtcFiles;
  readonly network: ContainerNetwork;
}

export interface ContainerNetworking {
  plan(input: NetworkPlanInput, options?: { signal?: AbortSignal }): Promise<NetworkPlan>;
  /** Before the runtime starts the container; answers the network with the ports as bound. */
  up(record: ContainerRecord, options?: { signal?: AbortSignal }): Promise<ContainerNetwork | undefined>;
  /** After the container stopped (idempotent). */
  down(record: ContainerRecord): Promise<void>;
  /** At removal (or a failed create): down, and the addresses go back. */
  release(id: string, network: ContainerNetwork | undefined): Promise<void>;
  /** A new endpoint (plugged in at once when running). */
  connect(record: ContainerRecord, network: string, options?: { aliases?: readonly string[]; signal?: AbortSignal }): Promise<ContainerNetwork>;
  disconnect(record: ContainerRecord, network: string): Promise<ContainerNetwork>;
  /** Rewrites the peers' /etc/hosts after container records changed; `starting` counts as running (its record is not saved yet). */
  changed(starting?: ContainerRecord): Promise<void>;
  /** After the containers were reconciled at startup: ports back, leaks removed. */
  reconcile(): Promise<void>;
}
