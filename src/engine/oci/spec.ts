/**
 * The OCI runtime spec (config.json) for a container, with Docker's
 * defaults: namespaces, the standard mounts, masked and read-only paths,
 * the 14 default capabilities, a seccomp filter, the device cgroup, and
 * resource limits.
 */
import type { ContainerCreateRequest } from '../../api/types/containers';
import type { ImageRuntimeConfig } from '../../api/types/oci';
import { BerthError } from '../../common/errors';
import { ALL_CAPABILITIES, BLOCKED_SYSCALLS, DEFAULT_CAPABILITIES, DEFAULT_DEVICE_RULES, MASKED_PATHS, READONLY_PATHS } from './defaults';

export interface OciMount {
  readonly destination: string;
  readonly type: string;
  readonly source: string;
  readonly options: readonly string[];
}

export interface ResolvedUser {
  readonly uid: number;
  readonly gid: number;
  readonly additionalGids: readonly number[];
  readonly home: string;
}

export interface RuntimeSpecInput {
  readonly id: string;
  readonly request: ContainerCreateRequest;
  readonly image: ImageRuntimeConfig;
  readonly rootfs: string;
  readonly user: ResolvedUser;
  readonly hostname: string;
  readonly cgroupsPath: string;
  /** Extra mounts already resolved to host paths. */
  readonly mounts?: readonly OciMount[];
  /** Path of a network namespace to join; absent: a new one; "host": none. */
  readonly netns?: string;
  /** The hard limit of open files the engine itself has (cannot be exceeded). */
  readonly nofileLimit?: number;
  /** Host path of an init binary to run as PID 1 when request.init. */
  readonly initBinary?: string;
  /** The engine's own capability bounding set. */
  readonly availableCapabilities?: readonly string[];
}

export type OciRuntimeSpec = Record<string, unknown> & { process: { args: string[]; env: string[] } };

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function normalizeCap(name: string): string {
  const upper = name.toUpperCase();
  return upper === 'ALL' ? 'ALL' : upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
}

/** `available`: the capabilities the engine itself holds (its bounding set); nothing beyond them can be granted. */
export function capabilities(request: ContainerCreateRequest, available: readonly string[] = ALL_CAPABILITIES): string[] {
  if (request.privileged) return [...available];
  const add = (request.capAdd ?? []).map(normalizeCap);
  const drop = (request.capDrop ?? []).map(normalizeCap);
  let caps = new Set<string>(drop.includes('ALL') ? [] : DEFAULT_CAPABILITIES);
  if (add.includes('ALL')) caps = new Set(available);
  for (const c of add) {
    if (c === 'ALL') continue;
    if (!(ALL_CAPABILITIES as readonly string[]).includes(c)) throw new BerthError('invalid_argument', `unknown capability ${c}`);
    if (!available.includes(c)) throw new BerthError('failed_precondition', `capability ${c} is not available to the engine on this host`);
    caps.add(c);
  }
  for (const c of drop) caps.delete(c);
  return [...caps].sort();
}

/** Docker's rule: a request entrypoint replaces the image's, and then the image cmd too. */
export function processArgs(request: ContainerCreateRequest, image: ImageRuntimeConfig): string[] {
  const entrypoint = request.entrypoint !== undefined ? (request.entrypoint ?? []) : (image.Entrypoint ?? []);
  const cmd = request.cmd !== undefined && request.cmd !== null ? request.cmd : request.entrypoint !== undefined ? [] : (image.Cmd ?? []);
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw new BerthError('invalid_argument', 'no command specified: the image has no Entrypoint or Cmd and none was given');
  return args;
}

export function processEnv(request: ContainerCreateRequest, image: ImageRuntimeConfig, hostname: string, home: string): string[] {
  const env = new Map<string, string>();
  const put = (kv: string): void => {
    const eq = kv.indexOf('=');
    if (eq > 0) env.set(kv.slice(0, eq), kv.slice(eq + 1));
  };
  env.set('PATH', DEFAULT_PATH);
  env.set('HOSTNAME', hostname);
  (image.Env ?? []).forEach(put);
  (request.env ?? []).forEach(put);
  if (request.tty && !env.has('TERM')) env.set('TERM', 'xterm');
  if (!env.has('HOME')) env.set('HOME', home);
  return [...env].map(([k, v]) => `${k}=${v}`);
}

function seccomp(caps: readonly string[]): Record<string, unknown> {
  const blocked = BLOCKED_SYSCALLS.filter((b) => !b.unlessCap || !caps.includes(b.unlessCap)).flatMap((b) => b.names);
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [{ names: blocked, action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
  };
}

export function buildRuntimeSpec(input: RuntimeSpecInput): OciRuntimeSpec {
  const { request, image, user } = input;
  const privileged = request.privileged === true;
  const caps = capabilities(request, input.availableCapabilities);
  const securityOpt = request.securityOpt ?? [];
  const unconfined = privileged || securityOpt.includes('seccomp=unconfined') || securityOpt.includes('seccomp:unconfined');
  const args = processArgs(request, image);
  const finalArgs = request.init && input.initBinary ? ['/sbin/berth-init', '--', ...args] : args;
  const nofile = Math.min(1048576, input.nofileLimit ?? 1048576);
  const namespaces = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  if (input.netns !== 'host') namespaces.push(input.netns ? ({ type: 'network', path: input.netns } as { type: string }) : { type: 'network' });
  const resources: Record<string, unknown> = {
    devices: privileged ? [{ allow: true, access: 'rwm' }] : DEFAULT_DEVICE_RULES,
  };
  const limits = request.resources ?? {};
  if (limits.memory) resources['memory'] = { limit: limits.memory, swap: limits.memory * 2 };
  if (limits.nanoCpus) resources['cpu'] = { quota: Math.round((limits.nanoCpus / 1e9) * 100000), period: 100000 };
  if (limits.pidsLimit) resources['pids'] = { limit: limits.pidsLimit };
  const mounts: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', privileged ? 'rw' : 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', privileged ? 'rw' : 'ro'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864'] },
    ...(request.init && input.initBinary ? [{ destination: '/sbin/berth-init', type: 'bind', source: input.initBinary, options: ['rbind', 'ro'] }] : []),
    ...(input.mounts ?? []),
  ];
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: request.tty === true,
      user: { uid: user.uid, gid: user.gid, additionalGids: [...user.additionalGids] },
      args: finalArgs,
      env: processEnv(request, image, input.hostname, user.home),
      cwd: request.workingDir || image.WorkingDir || '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps, ...(user.uid === 0 ? { inheritable: [] } : {}) },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: nofile, soft: nofile }],
      noNewPrivileges: securityOpt.includes('no-new-privileges') || securityOpt.includes('no-new-privileges:true'),
      oomScoreAdj: 0,
    },
    root: { path: input.rootfs, readonly: request.readonlyRootfs === true },
    hostname: input.hostname,
    mounts,
    linux: {
      namespaces,
      cgroupsPath: input.cgroupsPath,
      resources,
      ...(privileged ? {} : { maskedPaths: MASKED_PATHS, readonlyPaths: READONLY_PATHS }),
      ...(unconfined ? {} : { seccomp: seccomp(caps) }),
    },
  } as OciRuntimeSpec;
}
