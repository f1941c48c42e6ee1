/** Docker's container defaults: capabilities, masked and read-only paths, devices. */

export const DEFAULT_CAPABILITIES = [
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
] as const;

/** Every capability Linux 6.x knows, in capability-number order, for privileged containers and cap-add ALL. */
export const ALL_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK',
  'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

export const MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export interface DeviceRule {
  readonly allow: boolean;
  readonly type?: 'c' | 'b' | 'a';
  readonly major?: number;
  readonly minor?: number;
  readonly access: string;
}

/** Docker's default device cgroup: deny all, then the usual character devices. */
export const DEFAULT_DEVICE_RULES: readonly DeviceRule[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // null
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // zero
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // full
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // random
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // urandom
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // tty
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' }, // console
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // ptmx
  { allow: true, type: 'c', major: 136, access: 'rwm' }, // pts/*
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }, // net/tun
  { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' }, // fuse: not by default
];

/**
 * Syscalls a default container may not make (seccomp answers EPERM), as in
 * Docker's default profile; some come back with a capability.
 */
export const BLOCKED_SYSCALLS: readonly { readonly names: readonly string[]; readonly unlessCap?: string }[] = [
  { names: ['acct'], unlessCap: 'CAP_SYS_PACCT' },
  { names: ['add_key', 'keyctl', 'request_key'] },
  { names: ['bpf'], unlessCap: 'CAP_SYS_ADMIN' },
  { names: ['clock_adjtime', 'clock_settime', 'settimeofday', 'stime'], unlessCap: 'CAP_SYS_TIME' },
  { names: ['create_module', 'delete_module', 'finit_module', 'init_module', 'get_kernel_syms', 'query_module'], unlessCap: 'CAP_SYS_MODULE' },
  { names: ['get_mempolicy', 'mbind', 'set_mempolicy', 'move_pages'], unlessCap: 'CAP_SYS_NICE' },
  { names: ['ioperm', 'iopl'], unlessCap: 'CAP_SYS_RAWIO' },
  { names: ['kcmp', 'process_vm_readv', 'process_vm_writev', 'ptrace'], unlessCap: 'CAP_SYS_PTRACE' },
  { names: ['kexec_file_load', 'kexec_load', 'reboot'], unlessCap: 'CAP_SYS_BOOT' },
  { names: ['lookup_dcookie', 'perf_event_open', 'quotactl', 'setns', 'unshare', 'mount', 'umount', 'umount2', 'pivot_root', 'swapon', 'swapoff', 'name_to_handle_at', 'open_by_handle_at', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick', 'move_mount', 'open_tree'], unlessCap: 'CAP_SYS_ADMIN' },
  { names: ['nfsservctl', 'sysfs', '_sysctl', 'uselib', 'userfaultfd', 'ustat', 'vm86', 'vm86old'] },
];

/** The capabilities in a CapBnd/CapEff hex mask (as in /proc/self/status). */
export function capabilitiesFromMask(hex: string): string[] {
  const mask = BigInt(`0x${hex}`);
  return ALL_CAPABILITIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}
