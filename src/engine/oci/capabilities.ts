/**
 * Linux capabilities for containers, with Docker's rules: the 14 defaults,
 * cap-add / cap-drop (with or without the CAP_ prefix, "ALL" on either side),
 * privileged = everything the engine itself holds, and non-root processes
 * get the bounding set only (as execve would leave them).
 */
import type { ContainerCreateRequest } from '../../api/types/containers';
import { BerthError } from '../../common/errors';
import type { OciCapabilities } from './spec-types';

/** Docker's default set (moby oci/caps DefaultCapabilities). */
export const DEFAULT_CAPABILITIES: readonly string[] = Object.freeze([
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
]);

/** Every capability Linux knows (6.x), indexed by capability number. */
export const ALL_CAPABILITIES: readonly string[] = Object.freeze([
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK',
  'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
]);

/** "net_admin", "NET_ADMIN", "CAP_NET_ADMIN" → "CAP_NET_ADMIN"; "all" → "ALL". */
export function normalizeCapability(name: string): string {
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!ALL_CAPABILITIES.includes(full)) throw new BerthError('invalid_argument', `unknown capability: "${name}"`);
  return full;
}

/** The fields that matter here: privileged, capAdd, capDrop. */
export type CapabilityRequest = Partial<ContainerCreateRequest>;

/**
 * The container's capability list, in capability-number order. `available`
 * is what the engine itself holds (its bounding set): nothing beyond it can
 * be granted, so privileged and "ALL" mean "all of those"; naming one that is
 * missing is a failed precondition.
 */
export function capabilities(request: CapabilityRequest, available: readonly string[] = ALL_CAPABILITIES): string[] {
  const order = (caps: Iterable<string>): string[] => {
    const set = new Set(caps);
    return ALL_CAPABILITIES.filter((c) => set.has(c));
  };
  if (request.privileged) return order(available);
  const add = (request.capAdd ?? []).map(normalizeCapability);
  const drop = (request.capDrop ?? []).map(normalizeCapability);
  // moby TweakCapabilities: "add ALL" = everything but the drops; otherwise the
  // base set ("drop ALL": none) minus the drops, plus the adds (an add beats a drop).
  if (add.includes('ALL')) return order(available.filter((c) => !drop.includes(c)));
  const caps = new Set<string>(drop.includes('ALL') ? [] : DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c) && available.includes(c)));
  for (const c of add) {
    if (!available.includes(c)) throw new BerthError('failed_precondition', `capability ${c} is not available to the engine on this host`);
    caps.add(c);
  }
  return order(caps);
}

/**
 * The process capability sets for `caps`: root gets bounding, effective and
 * permitted; other users get the bounding set only (Docker ≥ 20.10, as execve
 * drops them). Never inheritable or ambient.
 */
export function capabilitySets(caps: readonly string[], uid: number): OciCapabilities {
  return uid === 0 ? { bounding: [...caps], effective: [...caps], permitted: [...caps] } : { bounding: [...caps] };
}

/** The capabilities in a CapBnd/CapEff hex mask (as in /proc/self/status). */
export function capabilitiesFromMask(hex: string): string[] {
  const mask = BigInt(`0x${hex || '0'}`);
  return ALL_CAPABILITIES.filter((_, bit) => ((mask >> BigInt(bit)) & 1n) === 1n);
}

/** The inverse of capabilitiesFromMask: a 16-digit hex mask as /proc/self/status prints it. */
export function capabilitiesToMask(caps: readonly string[]): string {
  let mask = 0n;
  for (const c of caps) {
    const bit = ALL_CAPABILITIES.indexOf(c);
    if (bit < 0) throw new BerthError('invalid_argument', `unknown capability: "${c}"`);
    mask |= 1n << BigInt(bit);
  }
  return mask.toString(16).padStart(16, '0');
}
