/**
 * What the container verbs share: the dependencies, the record store, the
 * per-container mutex, the exit monitors, and where each container's files live.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { ContainerRecord, ContainerState } from '../../api/types/containers';
import { BerthError } from '../../common/errors';
import type { Digest, ImageRuntimeConfig } from '../../api/types/oci';
import type { Logger } from '../../common/log';
import type { OciRuntime } from '../oci/runtime';
import type { ExitStatus } from '../shim/protocol';
import type { MountSpec } from '../snapshots/types';
import type { ContainerNetworking } from '../network/container-networking';
import type { MountResolver } from '../volumes/container-mounts';
import type { EventBus } from './events';
import type { KeyedMutex } from './keyed-mutex';
import type { ContainerStore } from './store';

/** The part of a Snapshotter the containers need. */
export interface SnapshotSource {
  prepare(key: string, parent?: string, options?: { labels?: Record<string, string>; signal?: AbortSignal }): Promise<readonly MountSpec[]>;
  mounts(key: string): Promise<readonly MountSpec[]>;
  remove(key: string): Promise<void>;
}

/** An image as a container needs it. */
export interface ContainerImage {
  readonly id: Digest;
  /** The committed snapshot of the image's top layer (its ChainID); absent for an empty image. */
  readonly snapshotParent?: string;
  readonly config: ImageRuntimeConfig;
}

export type ImageResolver = (reference: string, options?: { signal?: AbortSignal }) => Promise<ContainerImage>;

export interface ContainerManagerOptions {
  /** Records, bundles and logs: <dataRoot>/containers. */
  readonly root: string;
  /** Runtime files (sockets under <execRoot>/s); keep the path short: unix socket paths are limited to 107 bytes. */
  readonly execRoot: string;
  /** The runtime for new containers. */
  readonly runtime: OciRuntime;
  /** The other runtimes, for containers created with another one. */
  readonly otherRuntimes?: readonly OciRuntime[];
  /** Path of the berth-shim binary. */
  readonly shim: string;
  readonly snapshotter: SnapshotSource;
  readonly resolveImage: ImageResolver;
  readonly events: EventBus;
  readonly logger: Logger;
  /** Host path of an init binary for `init: true` containers. */
  readonly initBinary?: string;
  /** The agent bundle's host directory, for `agent: true` containers. */
  readonly agentBundle?: (options?: { signal?: AbortSignal }) => Promise<string>;
  /** Binds, tmpfs and volumes; default: binds and tmpfs only. */
  readonly mounts?: MountResolver;
  /** Bridge networks, ports, etc files; default: a runtime-made network namespace with loopback only (or the host's). */
  readonly network?: ContainerNetworking;
}

export interface ContainerPaths {
  readonly dir: string;
  readonly bundle: string;
  readonly rootfs: string;
  readonly log: string;
  readonly pidFile: string;
  readonly exitFile: string;
  readonly attachSocket: string;
  readonly consoleSocket: string;
  readonly execs: string;
}

export interface ManagerContext {
  readonly options: ContainerManagerOptions;
  readonly store: ContainerStore;
  readonly mutex: KeyedMutex;
  /** Per running container: resolves once its exit is recorded. */
  readonly exits: Map<string, Promise<ExitStatus>>;
  /** Per running container: stops watching for its exit. */
  readonly monitors: Map<string, AbortController>;
  /** Per running container with a healthcheck: stops its health monitor. */
  readonly health: Map<string, AbortController>;
  /** Called after a monitored container's exit was recorded (auto-remove). */
  readonly afterExit: (id: string) => void;
}

export function socketBase(execRoot: string, key: string): string {
  return path.join(execRoot, 's', createHash('sha256').update(key).digest('hex').slice(0, 16));
}

export function containerPaths(options: ContainerManagerOptions, id: string): ContainerPaths {
  const dir = path.join(options.root, id);
  const bundle = path.join(dir, 'bundle');
  const sock = socketBase(options.execRoot, dir);
  return {
    dir,
    bundle,
    rootfs: path.join(bundle, 'rootfs'),
    log: path.join(dir, `${id}-json.log`),
    pidFile: path.join(dir, 'init.pid'),
    exitFile: path.join(dir, 'exit.json'),
    attachSocket: `${sock}.sock`,
    consoleSocket: `${sock}.con`,
    execs: path.join(dir, 'execs'),
  };
}

export const snapshotKey = (id: string): string => `container-${id}`;

export const nowIso = (): string => new Date().toISOString();

export function withState(record: ContainerRecord, state: Partial<ContainerState>): ContainerRecord {
  return { ...record, state: { ...record.state, ...state } };
}

export const isActive = (r: ContainerRecord): boolean => r.state.status === 'running' || r.state.status === 'paused' || r.state.status === 'restarting';

/** Event attributes: the name, the image and the labels. */
export function eventAttributes(r: ContainerRecord, extra: Record<string, string> = {}): Record<string, string> {
  return { ...(r.request.labels ?? {}), name: r.name, image: r.imageRef, ...extra };
}

/** The runtime a container was created with. */
export function runtimeOf(ctx: ManagerContext, record: ContainerRecord): OciRuntime {
  const name = record.runtime ?? 'runc';
  const runtime = [ctx.options.runtime, ...(ctx.options.otherRuntimes ?? [])].find((r) => r.name === name);
  if (!runtime) throw new BerthError('failed_precondition', `container ${record.name} was created with ${name}, which this engine does not run`);
  return runtime;
}
