/**
 * What the API handlers need from the engine. The concrete services (image
 * store, container manager, event bus) implement these; the handlers only
 * translate HTTP into calls of them.
 */
import type { Readable } from 'node:stream';
import type { LogLine } from '../../api/routes';
import type { ArtifactPullResult, ArtifactPushRequest, ArtifactPushResult } from '../../api/types/artifacts';
import type { BuildOptions, BuildProgress, BuildResult } from '../../api/types/build';
import type { ContainerCreateRequest, ContainerFileEntry, ContainerFileWrite, ContainerRecord, EngineEvent, ExecRequest, ListFilters } from '../../api/types/containers';
import type { PathStat } from '../containers/archive';
import type { ExecOptions, ExecSession } from '../containers/exec';
import type { ContainerStats } from '../containers/stats';
import type { RequestCredentials } from '../registry/request-credentials';
import type { ProcessTable } from '../containers/top';
import type { ImageStore } from '../../api/types/images';
import type { NetworkCreateRequest, NetworkRecord } from '../../api/types/networks';
import type { VolumeCreateRequest, VolumeListFilters, VolumePruneFilters, VolumePruneResult, VolumeRecord } from '../../api/types/volumes';

export interface ContainerService {
  create(request: ContainerCreateRequest, options?: { signal?: AbortSignal }): Promise<ContainerRecord>;
  start(id: string, options?: { signal?: AbortSignal }): Promise<void>;
  stop(id: string, options?: { timeout?: number; signal?: AbortSignal }): Promise<void>;
  kill(id: string, signal?: string): Promise<void>;
  restart(id: string, options?: { timeout?: number; signal?: AbortSignal }): Promise<void>;
  /** `volumes`: the container's anonymous volumes too. */
  remove(id: string, options?: { force?: boolean; volumes?: boolean }): Promise<void>;
  wait(id: string, options?: { signal?: AbortSignal }): Promise<{ exitCode: number }>;
  logs(id: string, options: { follow?: boolean; tail?: number; since?: number; signal?: AbortSignal }): AsyncIterable<LogLine>;
  list(filters?: ListFilters): Promise<readonly ContainerRecord[]>;
  inspect(id: string): Promise<ContainerRecord>;
  exec(id: string, request: ExecRequest, options?: ExecOptions): Promise<ExecSession>;
  /** Sets the terminal size of a container made with a TTY. */
  resize(id: string, rows: number, cols: number): Promise<void>;
  /** The host's `ps` (with `psArgs`, default -ef) narrowed to the container's processes. */
  top(id: string, psArgs?: string, options?: { signal?: AbortSignal }): Promise<ProcessTable>;
  /** Bytes in the container's writable layer, where the snapshotter keeps it apart. */
  sizeRw(id: string, options?: { signal?: AbortSignal }): Promise<number | undefined>;
  /** One reading of the container's resource usage (zeros when it is not running). */
  stats(id: string): Promise<ContainerStats>;
  /** A path inside the container (links resolved inside it): its stat, */
  statPath(id: string, containerPath: string, options?: { signal?: AbortSignal }): Promise<PathStat>;
  /** its content as a tar stream, */
  archive(id: string, containerPath: string, options?: { signal?: AbortSignal }): Promise<{ stat: PathStat; tar: Readable }>;
  /** and a tar stream extracted into it (a directory); owners from the archive with `copyOwners`, else root. */
  extractArchive(id: string, containerPath: string, tar: Readable, options?: { copyOwners?: boolean; signal?: AbortSignal }): Promise<void>;
  /** A running container's directory entries or file (small files' content included), read without an exec. */
  readFiles(id: string, containerPath: string): Promise<readonly ContainerFileEntry[]>;
  /** Directories and files written into a running container as root, in order, without an exec. */
  writeFiles(id: string, entries: readonly ContainerFileWrite[]): Promise<void>;
  connect(id: string, network: string, options?: { aliases?: readonly string[]; signal?: AbortSignal }): Promise<void>;
  disconnect(id: string, network: string): Promise<void>;
}

export interface NetworkService {
  createNetwork(request: NetworkCreateRequest): Promise<NetworkRecord>;
  listNetworks(): Promise<readonly NetworkRecord[]>;
  inspectNetwork(idOrName: string): Promise<NetworkRecord>;
  /** Refused (conflict) while a container has an endpoint on it; the default network cannot go. */
  removeNetwork(idOrName: string): Promise<void>;
}

export interface VolumeService {
  /** An existing volume of the same name is returned as it is. */
  create(request?: VolumeCreateRequest): Promise<VolumeRecord>;
  inspect(name: string): Promise<VolumeRecord>;
  list(filters?: VolumeListFilters): Promise<readonly VolumeRecord[]>;
  /** Refused (conflict) while any container uses it; `force` only ignores a missing one. */
  remove(name: string, options?: { force?: boolean }): Promise<void>;
  prune(filters?: VolumePruneFilters): Promise<VolumePruneResult>;
}

export interface EventSource {
  /** Calls `listener` for every event until the returned function is called; with `since` (Unix nanoseconds) the kept ones from then on first. */
  subscribe(listener: (event: EngineEvent) => void, options?: { since?: bigint | undefined }): () => void;
}

export interface BuildService {
  /** Builds from a context sent as a tar stream (plain or gzip). */
  buildFromTar(body: Readable, options: BuildOptions, run?: { signal?: AbortSignal; onProgress?: (p: BuildProgress) => void }): Promise<BuildResult>;
  /** Builds from a context sent before, named by the sha256 of its tar (not_found when it is gone). */
  buildFromStored(digest: string, options: BuildOptions, run?: { signal?: AbortSignal; onProgress?: (p: BuildProgress) => void }): Promise<BuildResult>;
}

export interface ArtifactService {
  pull(reference: string, options?: { signal?: AbortSignal }): Promise<ArtifactPullResult>;
  push(request: ArtifactPushRequest, options?: { signal?: AbortSignal }): Promise<ArtifactPushResult>;
}

export interface EngineServices {
  readonly images: ImageStore;
  readonly containers: ContainerService;
  readonly events: EventSource;
  readonly volumes: VolumeService;
  /** Credentials sent with a request (Docker's X-Registry-Auth) for the registry calls it makes. */
  readonly registryCredentials?: { run<T>(credentials: RequestCredentials, fn: () => Promise<T>): Promise<T> };
  /** Checks registry credentials (`docker login`). */
  readonly registryLogin?: (host: string, credentials: { username: string; password: string }, options?: { signal?: AbortSignal }) => Promise<void>;
  readonly networks: NetworkService;
  /** Absent where the engine has no builder. */
  readonly builder?: BuildService;
}
