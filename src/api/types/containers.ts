/**
 * Containers: what a create request carries, what the engine records, and
 * the verbs. A state machine (state.ts) guards every verb.
 */
import type { ContainerNetwork, PortBindingRequest } from './networks';
import type { Digest } from './oci';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface MountRequest {
  readonly type: 'bind' | 'volume' | 'tmpfs';
  /** Host path (bind) or volume name; unused for tmpfs. */
  readonly source?: string;
  readonly target: string;
  readonly readOnly?: boolean;
  /** Extra mount options, e.g. "nosuid", "size=64m". */
  readonly options?: readonly string[];
  /** Volume: do not copy the image's content at the target into an empty volume. */
  readonly noCopy?: boolean;
  /** Volume: labels for a volume created for this mount. */
  readonly volumeLabels?: Readonly<Record<string, string>>;
  /** Bind: create a missing source directory (Docker's legacy `Binds`) instead of failing. */
  readonly createSource?: boolean;
  /** Bind: "rprivate" (default), "private", "rshared", "shared", "rslave", "slave". */
  readonly propagation?: string;
  /** Docker's mode text for inspect ("ro,z"...); informational. */
  readonly mode?: string;
}

/** A mount as resolved at create: volumes have their name and host path. */
export interface MountPoint {
  readonly type: 'bind' | 'volume' | 'tmpfs';
  /** Volume name. */
  readonly name?: string;
  /** Host path (bind, volume); "" for tmpfs. */
  readonly source: string;
  readonly destination: string;
  readonly readOnly: boolean;
  /** A volume made for this container alone (removed with `rm -v`). */
  readonly anonymous?: boolean;
  readonly driver?: string;
  readonly mode: string;
  readonly propagation: string;
}

/**
 * A healthcheck as Docker's API and image configs carry it: durations in
 * nanoseconds (0 or absent: the default), `test` ["CMD", argv...],
 * ["CMD-SHELL", script] or ["NONE"] (no check, not even the image's).
 */
export interface HealthcheckConfig {
  readonly test?: readonly string[];
  readonly interval?: number;
  readonly timeout?: number;
  readonly startPeriod?: number;
  readonly startInterval?: number;
  readonly retries?: number;
}

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

/** One probe's result (Docker's HealthcheckResult). */
export interface HealthLogEntry {
  /** RFC 3339 times. */
  readonly start: string;
  readonly end: string;
  /** 0 healthy; -1 when the probe timed out or could not run. */
  readonly exitCode: number;
  /** Its output, at most 4096 bytes ("..." appended when cut). */
  readonly output: string;
}

/** What the engine knows of a running container's health (Docker's State.Health). */
export interface HealthState {
  readonly status: HealthStatus;
  readonly failingStreak: number;
  /** The last 5 probes, oldest first. */
  readonly log: readonly HealthLogEntry[];
}

export interface ResourceLimits {
  /** Bytes; 0 or absent for none. */
  readonly memory?: number;
  /** CPU quota in units of 1e-9 CPUs (Docker's NanoCpus). */
  readonly nanoCpus?: number;
  readonly pidsLimit?: number;
}

/** Everything needed to create a container (already resolved against the image by the caller or the manager). */
export interface ContainerCreateRequest {
  /** Unique; generated ("adjective_name") when absent. */
  readonly name?: string;
  /** Image reference or id as given by the user. */
  readonly image: string;
  readonly entrypoint?: readonly string[] | null;
  readonly cmd?: readonly string[] | null;
  readonly env?: readonly string[];
  /** "user", "uid", "user:group", "uid:gid". */
  readonly user?: string;
  readonly workingDir?: string;
  readonly hostname?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly tty?: boolean;
  readonly openStdin?: boolean;
  readonly stdinOnce?: boolean;
  readonly init?: boolean;
  readonly privileged?: boolean;
  readonly capAdd?: readonly string[];
  readonly capDrop?: readonly string[];
  readonly securityOpt?: readonly string[];
  readonly readonlyRootfs?: boolean;
  readonly mounts?: readonly MountRequest[];
  readonly resources?: ResourceLimits;
  /** "bridge" (default), "host", "none", "container:<id or name>", or a user-defined network's name. */
  readonly networkMode?: string;
  /** Extra names on the network of networkMode (user-defined networks). */
  readonly networkAliases?: readonly string[];
  /** More networks to join at create besides networkMode's (bridge modes only), with their aliases. */
  readonly extraNetworks?: readonly { readonly name: string; readonly aliases?: readonly string[] }[];
  /** /etc/hosts lines "name:ip" (`--add-host`); the ip "host-gateway" is the network's gateway. */
  readonly extraHosts?: readonly string[];
  /** Published ports (`-p`). */
  readonly ports?: readonly PortBindingRequest[];
  /** Publish every exposed port on a free host port (`-P`). */
  readonly publishAll?: boolean;
  /** Exposed ports besides the image's ("80/tcp"). */
  readonly exposedPorts?: readonly string[];
  readonly autoRemove?: boolean;
  readonly stopSignal?: string;
  /** Seconds before SIGKILL on stop (default 10). */
  readonly stopTimeout?: number;
  /** Mount the Berth agent read-only at /.berth, for `berth ssh` and the editor. */
  readonly agent?: boolean;
  /** Over the image's HEALTHCHECK, field by field; the record keeps the merged one. */
  readonly healthcheck?: HealthcheckConfig;
  /** Host devices in the container (`--device`). */
  readonly devices?: readonly DeviceMapping[];
}

/** A host device (or every device under a host folder) made available in the container. */
export interface DeviceMapping {
  readonly pathOnHost: string;
  /** Default: the same path. */
  readonly pathInContainer?: string;
  /** What the device cgroup allows: a combination of r, w and m (default "rwm"). */
  readonly permissions?: string;
}

export interface ContainerState {
  readonly status: ContainerStatus;
  readonly pid: number;
  readonly exitCode: number;
  /** "OOMKilled" etc. */
  readonly oomKilled: boolean;
  readonly error: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** Absent when the container has no healthcheck (or has not run since it got one). */
  readonly health?: HealthState;
}

export interface ContainerRecord {
  /** 64 hex characters. */
  readonly id: string;
  readonly name: string;
  readonly imageId: Digest;
  readonly imageRef: string;
  readonly created: string;
  readonly request: ContainerCreateRequest;
  /** Final argv of the container's first process. */
  readonly path: string;
  readonly args: readonly string[];
  readonly state: ContainerState;
  /** Bundle directory (config.json, rootfs mount point). */
  readonly bundle: string;
  readonly logPath: string;
  readonly restartCount: number;
  /** The OCI runtime that runs it ("runc" when absent: records from before the choice existed). */
  readonly runtime?: 'runc' | 'crun';
  /** The mounts as resolved at create (volume names and host paths). */
  readonly mounts?: readonly MountPoint[];
  /** Network mode, endpoints and ports (absent: records from before networking). */
  readonly network?: ContainerNetwork;
}

export interface ExecRequest {
  readonly cmd: readonly string[];
  readonly env?: readonly string[];
  readonly user?: string;
  readonly workingDir?: string;
  readonly tty?: boolean;
  readonly attachStdin?: boolean;
  readonly privileged?: boolean;
}

/** A file or directory read from a running container (containerFilesRead). */
export interface ContainerFileEntry {
  readonly name: string;
  /** 'other': a device node, FIFO or socket (listed, never opened). */
  readonly kind: 'file' | 'directory' | 'symlink' | 'other';
  readonly size: number;
  readonly mode: number;
  /** A regular file's content (base64), when it is at most MAX_FILE_CONTENT bytes. */
  readonly content?: string;
}

/** The most bytes of one file containerFilesRead returns. */
export const MAX_FILE_CONTENT = 1024 * 1024;

/** What containerFilesWrite makes, in order, owned by root: a directory (and those above it), or a regular file in an existing directory. */
export type ContainerFileWrite =
  | { readonly path: string; readonly kind: 'directory'; readonly mode?: number }
  | { readonly path: string; readonly kind: 'file'; readonly content: string; readonly mode?: number };

export interface ListFilters {
  readonly all?: boolean;
  /** "key" or "key=value" */
  readonly label?: readonly string[];
  readonly name?: readonly string[];
  readonly id?: readonly string[];
  readonly status?: readonly ContainerStatus[];
  readonly ancestor?: readonly string[];
  /** "starting", "healthy", "unhealthy", or "none" (no healthcheck). */
  readonly health?: readonly string[];
}

export type EngineEventAction = 'create' | 'start' | 'die' | 'stop' | 'kill' | 'destroy' | 'restart' | 'exec_create' | 'exec_start' | 'health_status: healthy' | 'health_status: unhealthy' | 'pull' | 'push' | 'tag' | 'untag' | 'delete' | 'load' | 'import' | 'save';

export interface EngineEvent {
  readonly type: 'container' | 'image';
  readonly action: EngineEventAction;
  readonly id: string;
  /** Container name, image reference, labels, exitCode... */
  readonly attributes: Readonly<Record<string, string>>;
  /** Unix time in nanoseconds, as a decimal string. */
  readonly timeNano: string;
}
