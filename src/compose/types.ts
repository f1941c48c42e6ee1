/**
 * A Compose project after loading: files merged, variables interpolated,
 * short syntaxes expanded, paths absolute. Frozen values; the verbs
 * (up, down, ps, logs) take this and never read the files again.
 */

export type DependsCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface Dependency {
  readonly condition: DependsCondition;
  /** False: a missing or failing dependency is only a warning. */
  readonly required: boolean;
}

export interface Healthcheck {
  /** ["CMD", argv...] or ["CMD-SHELL", script]; ["NONE"] disables the image's. */
  readonly test: readonly string[];
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly startPeriodMs: number;
  readonly startIntervalMs: number;
}

export interface ServiceVolume {
  readonly type: 'bind' | 'volume' | 'tmpfs';
  /** bind: an absolute host path; volume: the project's volume key (absent: anonymous). */
  readonly source?: string;
  readonly target: string;
  readonly readOnly: boolean;
  readonly noCopy?: boolean;
  /** tmpfs size in bytes. */
  readonly tmpfsSize?: number;
}

export interface ServiceBuild {
  /** Absolute. */
  readonly context: string;
  /** Relative to the context (or absolute when outside it). */
  readonly dockerfile: string;
  readonly args: Readonly<Record<string, string>>;
  readonly target?: string;
}

export interface ServicePort {
  readonly target: number;
  /** "8080", "8080-8081" or "" (a free port). */
  readonly published: string;
  readonly hostIp: string;
  readonly protocol: 'tcp' | 'udp';
}

export interface ComposeService {
  readonly name: string;
  readonly image?: string;
  readonly build?: ServiceBuild;
  /** Absent: the image's. */
  readonly command?: readonly string[];
  readonly entrypoint?: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  readonly ports: readonly ServicePort[];
  readonly expose: readonly string[];
  readonly volumes: readonly ServiceVolume[];
  /** Project network key -> aliases; empty when networkMode is set. */
  readonly networks: Readonly<Record<string, { readonly aliases: readonly string[] }>>;
  /** "host", "none", "service:NAME", "container:NAME". */
  readonly networkMode?: string;
  readonly dependsOn: Readonly<Record<string, Dependency>>;
  readonly healthcheck?: Healthcheck;
  readonly user?: string;
  readonly workingDir?: string;
  readonly hostname?: string;
  readonly containerName?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly capAdd: readonly string[];
  readonly capDrop: readonly string[];
  readonly securityOpt: readonly string[];
  readonly privileged: boolean;
  readonly init: boolean;
  readonly tty: boolean;
  readonly stdinOpen: boolean;
  readonly extraHosts: readonly string[];
  readonly restart?: string;
  readonly stopSignal?: string;
  readonly stopGracePeriodS?: number;
  readonly profiles: readonly string[];
  /** mem_limit, cpus, pids_limit. */
  readonly resources?: { readonly memory?: number; readonly nanoCpus?: number; readonly pidsLimit?: number };
}

export interface ProjectVolume {
  /** The engine's volume name. */
  readonly name: string;
  readonly external: boolean;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ProjectNetwork {
  /** The engine's network name. */
  readonly name: string;
  readonly external: boolean;
  readonly internal: boolean;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ComposeProject {
  readonly name: string;
  /** The folder relative paths are resolved against (the first file's). */
  readonly workingDir: string;
  readonly configFiles: readonly string[];
  /** Every service, including those of inactive profiles. */
  readonly services: Readonly<Record<string, ComposeService>>;
  readonly volumes: Readonly<Record<string, ProjectVolume>>;
  readonly networks: Readonly<Record<string, ProjectNetwork>>;
  /** The profiles enabled when it was loaded. */
  readonly profiles: readonly string[];
  /** What Berth read but does not apply ("services.app.deploy is not supported; ignored"). */
  readonly warnings: readonly string[];
}

/** Packs a build context: `dir` minus .dockerignore; `keep` always; `extra` adds an outside file under a name (the CLI's packer). */
export type ContextPacker = (dir: string, keep: readonly string[], extra?: { name: string; file: string }) => import('node:stream').Readable;
