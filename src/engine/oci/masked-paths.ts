/**
 * Docker's masked and read-only paths. Masked: a file gets /dev/null bound
 * over it, a directory an empty read-only tmpfs. Read-only: remounted ro.
 * Privileged containers (and `systempaths=unconfined`) get neither.
 */

export const MASKED_PATHS: readonly string[] = Object.freeze([
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
]);

export const READONLY_PATHS: readonly string[] = Object.freeze(['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
