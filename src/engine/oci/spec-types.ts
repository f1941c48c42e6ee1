/**
 * The OCI runtime-spec config.json (v1.0.2), limited to the fields runc and
 * crun read on Linux. https://github.com/opencontainers/runtime-spec
 */

export interface OciMount {
  readonly destination: string;
  readonly type: string;
  readonly source: string;
  readonly options: readonly string[];
}

export interface OciUser {
  readonly uid: number;
  readonly gid: number;
  readonly umask?: number;
  readonly additionalGids?: readonly number[];
}

export interface OciCapabilities {
  readonly bounding?: readonly string[];
  readonly effective?: readonly string[];
  readonly inheritable?: readonly string[];
  readonly permitted?: readonly string[];
  readonly ambient?: readonly string[];
}

export interface OciRlimit {
  readonly type: string;
  readonly hard: number;
  readonly soft: number;
}

export interface OciProcess {
  readonly terminal: boolean;
  readonly consoleSize?: { readonly height: number; readonly width: number };
  readonly user: OciUser;
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  readonly capabilities?: OciCapabilities;
  readonly rlimits?: readonly OciRlimit[];
  readonly noNewPrivileges: boolean;
  readonly apparmorProfile?: string;
  readonly oomScoreAdj?: number;
  readonly selinuxLabel?: string;
}

export interface OciRoot {
  readonly path: string;
  readonly readonly: boolean;
}

export type OciNamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup';

export interface OciNamespace {
  readonly type: OciNamespaceType;
  /** Join this namespace (a /proc/<pid>/ns/<type> or bind-mounted nsfs path) instead of creating one. */
  readonly path?: string;
}

export interface OciLinuxDevice {
  readonly path: string;
  readonly type: 'c' | 'b' | 'u' | 'p';
  readonly major: number;
  readonly minor: number;
  readonly fileMode?: number;
  readonly uid?: number;
  readonly gid?: number;
}

export interface OciDeviceCgroupRule {
  readonly allow: boolean;
  /** 'a' (all), 'c' or 'b'; absent means all. */
  readonly type?: 'a' | 'c' | 'b';
  /** Absent means any (wildcard). */
  readonly major?: number;
  readonly minor?: number;
  readonly access: string;
}

export interface OciMemory {
  readonly limit?: number;
  readonly reservation?: number;
  /** Memory plus swap (cgroup v1 memsw semantics), -1 for unlimited. */
  readonly swap?: number;
  readonly swappiness?: number;
  readonly disableOOMKiller?: boolean;
}

export interface OciCpu {
  readonly shares?: number;
  readonly quota?: number;
  readonly period?: number;
  readonly cpus?: string;
  readonly mems?: string;
}

export interface OciResources {
  readonly devices: readonly OciDeviceCgroupRule[];
  readonly memory?: OciMemory;
  readonly cpu?: OciCpu;
  readonly pids?: { readonly limit: number };
}

export type OciSeccompAction = 'SCMP_ACT_KILL' | 'SCMP_ACT_KILL_PROCESS' | 'SCMP_ACT_KILL_THREAD' | 'SCMP_ACT_TRAP' | 'SCMP_ACT_ERRNO' | 'SCMP_ACT_TRACE' | 'SCMP_ACT_ALLOW' | 'SCMP_ACT_LOG';

export type OciSeccompOperator = 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_EQ' | 'SCMP_CMP_GE' | 'SCMP_CMP_GT' | 'SCMP_CMP_MASKED_EQ';

export interface OciSeccompArg {
  readonly index: number;
  readonly value: number;
  readonly valueTwo?: number;
  readonly op: OciSeccompOperator;
}

export interface OciSyscall {
  readonly names: readonly string[];
  readonly action: OciSeccompAction;
  readonly errnoRet?: number;
  readonly args?: readonly OciSeccompArg[];
}

export interface OciSeccomp {
  readonly defaultAction: OciSeccompAction;
  readonly defaultErrnoRet?: number;
  readonly architectures: readonly string[];
  readonly flags?: readonly string[];
  readonly syscalls: readonly OciSyscall[];
}

export interface OciLinux {
  readonly namespaces: readonly OciNamespace[];
  readonly devices: readonly OciLinuxDevice[];
  readonly cgroupsPath: string;
  readonly resources: OciResources;
  readonly maskedPaths?: readonly string[];
  readonly readonlyPaths?: readonly string[];
  readonly seccomp?: OciSeccomp;
  readonly sysctl?: Readonly<Record<string, string>>;
  readonly rootfsPropagation?: string;
}

export interface OciRuntimeSpec {
  readonly ociVersion: string;
  readonly process: OciProcess;
  readonly root: OciRoot;
  readonly hostname: string;
  readonly mounts: readonly OciMount[];
  readonly linux: OciLinux;
  readonly annotations?: Readonly<Record<string, string>>;
}
