/**
 * Berth's native API, declared once. The daemon's router and the client are
 * both built from this table; each operation has one request and one
 * response shape. Streams are NDJSON: one JSON object per line.
 */
import type { Readable } from 'node:stream';
import type { ArtifactPullRequest, ArtifactPullResult, ArtifactPushRequest, ArtifactPushResult } from './types/artifacts';
import type { BuildMessage } from './types/build';
import type { ContainerCreateRequest, ContainerFileEntry, ContainerFileWrite, ContainerRecord, EngineEvent, ExecRequest } from './types/containers';
import type { ImageRecord, PullProgress } from './types/images';
import type { NetworkCreateRequest, NetworkRecord } from './types/networks';
import type { VolumeCreateRequest, VolumePruneFilters, VolumePruneResult, VolumeRecord } from './types/volumes';

export interface PingResponse {
  readonly ok: true;
  readonly version: string;
  readonly apiVersion: string;
  readonly pid: number;
}

export interface InfoResponse extends PingResponse {
  readonly dataRoot: string;
  readonly runtime: string;
  readonly snapshotter: string;
  readonly containers: { readonly total: number; readonly running: number };
  readonly images: number;
  readonly startedAt: string;
}

/** What an SSH client needs to reach a container's agent (the API socket is root only). */
export interface AgentCredentials {
  readonly id: string;
  readonly name: string;
  /** The user the agent runs as (the container's user). */
  readonly user: string;
  /** OpenSSH private key the agent accepts. */
  readonly clientKey: string;
  /** The agent's host key, "ssh-ed25519 AAAA...", for known_hosts. */
  readonly hostPublicKey: string;
}

export type ExecMessage = { readonly stream: 'stdout' | 'stderr'; readonly text: string } | { readonly exitCode: number };

export interface LogLine {
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
  readonly time: string;
}

/** One reading of a container's resource use (zeros when it is not running). */
export interface ContainerUsage {
  readonly read: string;
  /** CPU time used by the container, and by the whole host (for a percentage between two readings), in ns. */
  readonly cpuNs: number;
  readonly systemCpuNs: number;
  readonly onlineCpus: number;
  readonly memoryBytes: number;
  /** 0: no limit. */
  readonly memoryLimitBytes: number;
  readonly pids: number;
}

/** A pull's NDJSON stream: progress messages, then one final message with the image or an error. */
export type PullMessage =
  | { readonly progress: PullProgress }
  | { readonly image: ImageRecord }
  | { readonly error: { readonly code: string; readonly message: string } };

export type Method = 'GET' | 'POST' | 'DELETE' | 'HEAD' | 'PUT';

export interface RouteDef {
  readonly method: Method;
  /** Path pattern; `{name}` segments are parameters (`{name*}` takes the rest, slashes included). */
  readonly path: string;
  /** json: one JSON response; ndjson: a stream of JSON lines; upgrade: a hijacked connection. */
  readonly response: 'json' | 'ndjson' | 'upgrade' | 'none';
  /** The request body: JSON (default) or a raw tar stream handed to the handler. */
  readonly request?: 'tar';
}

/** Operation name → types. `params` are path parameters, `query` the query string. */
export interface Operations {
  ping: { params: object; query: object; body: undefined; response: PingResponse };
  info: { params: object; query: object; body: undefined; response: InfoResponse };
  imagePull: { params: object; query: object; body: { reference: string; platform?: string }; response: PullMessage };
  imageList: { params: object; query: object; body: undefined; response: readonly ImageRecord[] };
  imageInspect: { params: { name: string }; query: object; body: undefined; response: ImageRecord };
  imageTag: { params: { name: string }; query: object; body: { target: string }; response: { ok: true } };
  imagePush: { params: { name: string }; query: object; body: undefined; response: PullMessage };
  imageRemove: {
    params: { name: string };
    query: { force?: string };
    body: undefined;
    response: { untagged: readonly string[]; deleted: readonly string[] };
  };
  containerCreate: { params: object; query: object; body: ContainerCreateRequest; response: { id: string; name: string } };
  containerList: { params: object; query: { all?: string; filters?: string }; body: undefined; response: readonly ContainerRecord[] };
  containerInspect: { params: { id: string }; query: object; body: undefined; response: ContainerRecord };
  containerStart: { params: { id: string }; query: object; body: undefined; response: { ok: true } };
  containerStop: { params: { id: string }; query: { timeout?: string }; body: undefined; response: { ok: true } };
  containerKill: { params: { id: string }; query: { signal?: string }; body: undefined; response: { ok: true } };
  containerRestart: { params: { id: string }; query: { timeout?: string }; body: undefined; response: { ok: true } };
  containerWait: { params: { id: string }; query: object; body: undefined; response: { exitCode: number } };
  containerLogs: {
    params: { id: string };
    query: { follow?: string; tail?: string; since?: string; timestamps?: string };
    body: undefined;
    response: LogLine;
  };
  containerRemove: { params: { id: string }; query: { force?: string; volumes?: string }; body: undefined; response: { ok: true } };
  containerStats: { params: { id: string }; query: object; body: undefined; response: ContainerUsage };
  /** The process's output as it comes (UTF-8 text), then its exit code. */
  containerExec: { params: { id: string }; query: object; body: ExecRequest; response: ExecMessage };
  /** Live events; with `since` (Unix time in nanoseconds) the engine's recent ones from then on come first. */
  events: { params: object; query: { filters?: string; since?: string }; body: undefined; response: EngineEvent };
  /** A WebSocket (binary messages) to a new agent in the container: SSH inside. */
  /** A running container's directory (its entries) or file, read from the host without an exec; links resolved inside the container. */
  containerFilesRead: { params: { id: string }; query: { path: string }; body: undefined; response: { entries: readonly ContainerFileEntry[] } };
  /** Directories and small files written into a running container as root, without an exec. */
  containerFilesWrite: { params: { id: string }; query: object; body: { entries: readonly ContainerFileWrite[] }; response: { ok: true } };
  containerAgent: { params: { id: string }; query: object; body: undefined; response: never };
  containerAgentCredentials: { params: { id: string }; query: object; body: undefined; response: AgentCredentials };
  volumeCreate: { params: object; query: object; body: VolumeCreateRequest | undefined; response: VolumeRecord };
  /** filters: Docker's JSON (name, label, driver, dangling). */
  volumeList: { params: object; query: { filters?: string }; body: undefined; response: readonly VolumeRecord[] };
  volumeInspect: { params: { name: string }; query: object; body: undefined; response: VolumeRecord };
  volumeRemove: { params: { name: string }; query: { force?: string }; body: undefined; response: { ok: true } };
  volumePrune: { params: object; query: object; body: VolumePruneFilters | undefined; response: VolumePruneResult };
  networkCreate: { params: object; query: object; body: NetworkCreateRequest; response: NetworkRecord };
  networkList: { params: object; query: object; body: undefined; response: readonly NetworkRecord[] };
  networkInspect: { params: { name: string }; query: object; body: undefined; response: NetworkRecord };
  networkRemove: { params: { name: string }; query: object; body: undefined; response: { ok: true } };
  networkConnect: { params: { name: string }; query: object; body: { container: string; aliases?: readonly string[] }; response: { ok: true } };
  networkDisconnect: { params: { name: string }; query: object; body: { container: string }; response: { ok: true } };
  /** A tar stream of the build context in; progress, then the result or an error, out. `options`: BuildOptions as JSON; `context`: the sha256 (hex) of a context sent before, used instead of the body (not_found when the engine no longer has it). */
  imageBuild: { params: object; query: { options?: string; context?: string }; body: Readable; response: BuildMessage };
  artifactPull: { params: object; query: object; body: ArtifactPullRequest; response: ArtifactPullResult };
  artifactPush: { params: object; query: object; body: ArtifactPushRequest; response: ArtifactPushResult };
}

export type OperationName = keyof Operations;

export const API_VERSION = '1';

export const ROUTES: { readonly [K in OperationName]: RouteDef } = {
  ping: { method: 'GET', path: '/v1/ping', response: 'json' },
  info: { method: 'GET', path: '/v1/info', response: 'json' },
  imagePull: { method: 'POST', path: '/v1/images/pull', response: 'ndjson' },
  imageList: { method: 'GET', path: '/v1/images', response: 'json' },
  imageInspect: { method: 'GET', path: '/v1/images/{name*}', response: 'json' },
  imageTag: { method: 'POST', path: '/v1/images/tag/{name*}', response: 'json' },
  imagePush: { method: 'POST', path: '/v1/images/push/{name*}', response: 'ndjson' },
  imageRemove: { method: 'DELETE', path: '/v1/images/{name*}', response: 'json' },
  containerCreate: { method: 'POST', path: '/v1/containers', response: 'json' },
  containerList: { method: 'GET', path: '/v1/containers', response: 'json' },
  containerInspect: { method: 'GET', path: '/v1/containers/{id}', response: 'json' },
  containerStart: { method: 'POST', path: '/v1/containers/{id}/start', response: 'json' },
  containerStop: { method: 'POST', path: '/v1/containers/{id}/stop', response: 'json' },
  containerKill: { method: 'POST', path: '/v1/containers/{id}/kill', response: 'json' },
  containerRestart: { method: 'POST', path: '/v1/containers/{id}/restart', response: 'json' },
  containerWait: { method: 'POST', path: '/v1/containers/{id}/wait', response: 'json' },
  containerLogs: { method: 'GET', path: '/v1/containers/{id}/logs', response: 'ndjson' },
  containerRemove: { method: 'DELETE', path: '/v1/containers/{id}', response: 'json' },
  containerStats: { method: 'GET', path: '/v1/containers/{id}/stats', response: 'json' },
  containerExec: { method: 'POST', path: '/v1/containers/{id}/exec', response: 'ndjson' },
  events: { method: 'GET', path: '/v1/events', response: 'ndjson' },
  containerFilesRead: { method: 'GET', path: '/v1/containers/{id}/files', response: 'json' },
  containerFilesWrite: { method: 'PUT', path: '/v1/containers/{id}/files', response: 'json' },
  containerAgent: { method: 'GET', path: '/v1/containers/{id}/agent', response: 'upgrade' },
  containerAgentCredentials: { method: 'POST', path: '/v1/containers/{id}/agent/credentials', response: 'json' },
  volumeCreate: { method: 'POST', path: '/v1/volumes', response: 'json' },
  volumeList: { method: 'GET', path: '/v1/volumes', response: 'json' },
  volumePrune: { method: 'POST', path: '/v1/volumes/prune', response: 'json' },
  volumeInspect: { method: 'GET', path: '/v1/volumes/{name}', response: 'json' },
  volumeRemove: { method: 'DELETE', path: '/v1/volumes/{name}', response: 'json' },
  networkCreate: { method: 'POST', path: '/v1/networks', response: 'json' },
  networkList: { method: 'GET', path: '/v1/networks', response: 'json' },
  networkInspect: { method: 'GET', path: '/v1/networks/{name}', response: 'json' },
  networkRemove: { method: 'DELETE', path: '/v1/networks/{name}', response: 'json' },
  networkConnect: { method: 'POST', path: '/v1/networks/{name}/connect', response: 'json' },
  networkDisconnect: { method: 'POST', path: '/v1/networks/{name}/disconnect', response: 'json' },
  imageBuild: { method: 'POST', path: '/v1/build', response: 'ndjson', request: 'tar' },
  artifactPull: { method: 'POST', path: '/v1/artifacts/pull', response: 'json' },
  artifactPush: { method: 'POST', path: '/v1/artifacts/push', response: 'json' },
};

/** Fills a path pattern with parameters (each URI-encoded; `*` parameters keep their slashes). */
export function fillPath(pattern: string, params: Readonly<Record<string, string>>): string {
  return pattern.replace(/\{(\w+)(\*?)\}/g, (_m, name: string, rest: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`missing path parameter ${name}`);
    return rest ? value.split('/').map(encodeURIComponent).join('/') : encodeURIComponent(value);
  });
}

/** Matches a request path against a pattern; returns the decoded parameters or undefined. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const names: string[] = [];
  const source = pattern.replace(/[.+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)(\*?)\}/g, (_m, name: string, rest: string) => {
    names.push(name);
    return rest ? '(.+)' : '([^/]+)';
  });
  const match = new RegExp(`^${source}$`).exec(path);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  names.forEach((name, i) => {
    params[name] = decodeURIComponent(match[i + 1] ?? '');
  });
  return params;
}
