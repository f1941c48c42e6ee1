/**
 * The OCI runtime spec (config.json) for a container, with Docker's
 * defaults: pid/ipc/uts/mount/network namespaces, the standard mounts,
 * masked and read-only paths, the 14 default capabilities, the default
 * seccomp profile, the device cgroup, limits, and privileged mode.
 *
 * Cgroup namespace: like Docker, private on a cgroup v2 host and the host's
 * on v1 and hybrid hosts (where runc bind-mounts the container's own cgroup
 * directories at /sys/fs/cgroup/<controller>, so limits still read from inside).
 */
import type { ContainerCreateRequest } from '../../api/types/containers';
import type { ImageRuntimeConfig } from '../../api/types/oci';
import { BerthError } from '../../common/errors';
import { ALL_CAPABILITIES, capabilities, capabilitySets } from './capabilities';
import type { ContainerDevice } from './devices';
import { MASKED_PATHS, READONLY_PATHS } from './masked-paths';
import { compileSeccomp, defaultSeccompProfile } from './seccomp';
import { processArgs, processCwd, processEnv } from './spec-process';
import { parseSecurityOptions, type SecurityOptions } from './spec-security';
import type { OciDeviceCgroupRule, OciLinuxDevice, OciMount, OciNamespace, OciResources, OciRuntimeSpec, OciSeccomp } from './spec-types';
import type { ResolvedUser } from './user';

export type { OciMount, OciRuntimeSpec } from './spec-types';
export type { ResolvedUser } from './user';
export { capabilities } from './capabilities';
export { processArgs, processEnv } from './spec-process';

/** Where `--init` puts the init binary (tini: reaps zombies, forwards signals, `--` then the command). */
export const INIT_PATH = '/sbin/berth-init';
const MAX_NOFILE = 1048576;

export interface EtcFiles {
  readonly hosts?: string;
  readonly resolvConf?: string;
  readonly hostname?: string;
}

export interface RuntimeSpecInput {
  readonly id: string;
  readonly request: ContainerCreateRequest;
  readonly image: ImageRuntimeConfig;
  readonly rootfs: string;
  readonly user: ResolvedUser;
  readonly hostname: string;
  /** e.g. "/berth/<id>": relative to each hierarchy's root on v1, to the unified root on v2. */
  readonly cgroupsPath: string;
  /** Extra mounts already resolved to host paths (binds, tmpfs, volumes); one at a default mount's destination replaces it. */
  readonly mounts?: readonly OciMount[];
  /** Host files bound at /etc/hosts, /etc/resolv.conf, /etc/hostname (read-only with a read-only rootfs). */
  readonly etcFiles?: EtcFiles;
  /** "host": the host's network namespace; a path: join it; absent: a new one (loopback only). */
  readonly netns?: string;
  /** The engine's hard limit of open files (without CAP_SYS_RESOURCE a container cannot get more). */
  readonly nofileLimit?: number;
  /**
   * Host path of a static init for `init: true` (tini-static). Mounted
   * read-only at INIT_PATH and run as PID 1 as `INIT_PATH -- <args>`: it must
   * reap adopted zombies, forward signals to its child and exit with its status.
   */
  readonly initBinary?: string;
  /** The engine's own bounding set; privileged and cap-add cannot go beyond it. */
  readonly availableCapabilities?: readonly string[];
  /** Parsed security options (loadSecurityOptions reads seccomp profile paths); default: parsed from request.securityOpt. */
  readonly security?: SecurityOptions;
  /** Default "host" (Docker on cgroup v1/hybrid); "private" on a v2 host. */
  readonly cgroupns?: 'private' | 'host';
  /** Whether memory+swap can be limited (v1 memsw); default true. Without it swap is left alone, as Docker does. */
  readonly swapAccounting?: boolean;
  /** Host devices for privileged containers (listHostDevices). */
  readonly hostDevices?: readonly OciLinuxDevice[];
  /** Devices asked for (`--device`, resolveDevices): their nodes and device cgroup rules. */
  readonly devices?: readonly ContainerDevice[];
  /** Node arch name and kernel release for the seccomp profile; default: this host's. */
  readonly arch?: string;
  readonly kernel?: string;
}

const node = (path: string, major: number, minor: number): OciLinuxDevice => ({ path, type: 'c', major, minor, fileMode: 0o666, uid: 0, gid: 0 });

/** Device nodes every container gets (runc and crun also add these themselves). */
export const DEFAULT_DEVICES: readonly OciLinuxDevice[] = Object.freeze([
  node('/dev/null', 1, 3),
  node('/dev/zero', 1, 5),
  node('/dev/full', 1, 7),
  node('/dev/random', 1, 8),
  node('/dev/urandom', 1, 9),
  node('/dev/tty', 5, 0),
]);

const allow = (major: number, minor?: number): OciDeviceCgroupRule => ({ allow: true, type: 'c', major, ...(minor !== undefined ? { minor } : {}), access: 'rwm' });

/**
 * Docker's device cgroup as it ends up with runc: deny everything (fuse
 * explicitly), mknod of any node, then null, zero, full, random, urandom,
 * tty, console, ptmx, /dev/pts/*, and tun.
 */
export const DEFAULT_DEVICE_RULES: readonly OciDeviceCgroupRule[] = Object.freeze([
  { allow: false, access: 'rwm' },
  { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  allow(1, 3),
  allow(1, 5),
  allow(1, 7),
  allow(1, 8),
  allow(1, 9),
  allow(5, 0),
  allow(5, 1),
  allow(5, 2),
  allow(136),
  allow(10, 200),
]);

function defaultMounts(privileged: boolean, writableCgroups: boolean): OciMount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', privileged ? 'rw' : 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', privileged || writableCgroups ? 'rw' : 'ro'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864'] },
  ];
}

const depth = (p: string): number => p.split('/').filter(Boolean).length;

function mounts(input: RuntimeSpecInput, privileged: boolean, writableCgroups: boolean): OciMount[] {
  const { request } = input;
  const extra: OciMount[] = [];
  const etcOptions = ['rbind', 'rprivate', request.readonlyRootfs ? 'ro' : 'rw'];
  const etc: [string, string | undefined][] = [
    ['/etc/resolv.conf', input.etcFiles?.resolvConf],
    ['/etc/hostname', input.etcFiles?.hostname],
    ['/etc/hosts', input.etcFiles?.hosts],
  ];
  // A user mount at one of these files, or over a directory above it (a volume at /etc), wins: nothing is bound into it.
  const covered = (d: string): boolean => (input.mounts ?? []).some((m) => d === m.destination || d.startsWith(`${m.destination.replace(/\/+$/, '')}/`));
  for (const [destination, source] of etc) if (source && !covered(destination)) extra.push({ destination, type: 'bind', source, options: etcOptions });
  for (const m of input.mounts ?? []) {
    if (!m.destination.startsWith('/')) throw new BerthError('invalid_argument', `mount destination ${m.destination} must be an absolute path`);
    if (extra.some((e) => e.destination === m.destination)) throw new BerthError('invalid_argument', `duplicate mount point: ${m.destination}`);
    extra.push(m);
  }
  if (request.init) {
    if (!input.initBinary) throw new BerthError('failed_precondition', 'init was requested but the engine has no init binary (install tini)');
    extra.push({ destination: INIT_PATH, type: 'bind', source: input.initBinary, options: ['bind', 'ro', 'nosuid', 'nodev'] });
  }
  // Docker: a user mount replaces the default mount at the same place; parents before children.
  const taken = new Set(extra.map((m) => m.destination));
  const base = defaultMounts(privileged, writableCgroups).filter((m) => !taken.has(m.destination));
  return [...base, ...extra.map((m, i) => ({ m, i })).sort((a, b) => depth(a.m.destination) - depth(b.m.destination) || a.i - b.i).map(({ m }) => m)];
}

function resources(input: RuntimeSpecInput, privileged: boolean): OciResources {
  const limits = input.request.resources ?? {};
  const positive = (n: number | undefined, what: string): number | undefined => {
    if (n === undefined || n === 0) return undefined;
    if (!Number.isSafeInteger(n) || n < 0) throw new BerthError('invalid_argument', `${what} must be a positive integer`);
    return n;
  };
  const memory = positive(limits.memory, 'memory');
  if (memory !== undefined && memory < 6 * 1024 * 1024) throw new BerthError('invalid_argument', 'minimum memory limit allowed is 6MB');
  const nanoCpus = positive(limits.nanoCpus, 'nanoCpus');
  const pids = limits.pidsLimit !== undefined && limits.pidsLimit > 0 ? positive(limits.pidsLimit, 'pidsLimit') : undefined;
  const period = 100000;
  return {
    devices: privileged ? [{ allow: true, access: 'rwm' }] : [...DEFAULT_DEVICE_RULES, ...(input.devices ?? []).map((d) => d.rule)],
    // Docker: swap (memory+swap) defaults to twice the memory limit where swap can be limited.
    ...(memory !== undefined ? { memory: { limit: memory, ...(input.swapAccounting !== false ? { swap: memory * 2 } : {}) } } : {}),
    ...(nanoCpus !== undefined ? { cpu: { quota: Math.max(1000, Math.round((nanoCpus * period) / 1e9)), period } } : {}),
    ...(pids !== undefined ? { pids: { limit: pids } } : {}),
  };
}

function seccomp(security: SecurityOptions, privileged: boolean, bounding: readonly string[], input: RuntimeSpecInput): OciSeccomp | undefined {
  if (privileged || security.seccomp.kind === 'unconfined') return undefined;
  const target = { capabilities: bounding, ...(input.arch ? { arch: input.arch } : {}), ...(input.kernel ? { kernel: input.kernel } : {}) };
  return security.seccomp.kind === 'custom' ? compileSeccomp(security.seccomp.template, target) : defaultSeccompProfile(target);
}

/** The default nodes, then those asked for (one asked for at a default's path replaces it). */
function withDevices(defaults: readonly OciLinuxDevice[], asked: readonly ContainerDevice[]): OciLinuxDevice[] {
  const paths = new Set(asked.map((d) => d.node.path));
  return [...defaults.filter((d) => !paths.has(d.path)), ...asked.map((d) => d.node)];
}

export function buildRuntimeSpec(input: RuntimeSpecInput): OciRuntimeSpec {
  const { request, image, user } = input;
  const privileged = request.privileged === true;
  const security = input.security ?? parseSecurityOptions(request.securityOpt);
  const caps = capabilities(request, input.availableCapabilities ?? ALL_CAPABILITIES);
  const args = processArgs(request, image);
  const nofile = Math.min(MAX_NOFILE, input.nofileLimit ?? MAX_NOFILE);
  const hostNet = input.netns === 'host';
  const namespaces: OciNamespace[] = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  if (!hostNet) namespaces.push(input.netns ? { type: 'network', path: input.netns } : { type: 'network' });
  if (input.cgroupns === 'private') namespaces.push({ type: 'cgroup' });
  const confined = !privileged && !security.systemPathsUnconfined;
  const filter = seccomp(security, privileged, caps, input);
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: request.tty === true,
      user: { uid: user.uid, gid: user.gid, additionalGids: [...user.additionalGids] },
      args: request.init ? [INIT_PATH, '--', ...args] : args,
      env: processEnv(request, image, input.hostname),
      cwd: processCwd(request, image),
      capabilities: capabilitySets(caps, user.uid),
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: nofile, soft: nofile }],
      noNewPrivileges: security.noNewPrivileges,
      oomScoreAdj: 0,
    },
    root: { path: input.rootfs, readonly: request.readonlyRootfs === true },
    hostname: input.hostname,
    mounts: mounts(input, privileged, security.writableCgroups),
    linux: {
      namespaces,
      devices: privileged && input.hostDevices ? input.hostDevices : withDevices(DEFAULT_DEVICES, input.devices ?? []),
      cgroupsPath: input.cgroupsPath,
      resources: resources(input, privileged),
      // Docker: unprivileged ping and low ports inside the container's own network namespace.
      ...(hostNet ? {} : { sysctl: { 'net.ipv4.ping_group_range': '0 2147483647', 'net.ipv4.ip_unprivileged_port_start': '0' } }),
      ...(confined ? { maskedPaths: [...MASKED_PATHS], readonlyPaths: [...READONLY_PATHS] } : {}),
      ...(filter ? { seccomp: filter } : {}),
    },
  };
}
