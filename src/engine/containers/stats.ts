/**
 * Resource usage of a running container, read from its cgroup (v1: memory,
 * cpuacct, pids, blkio; v2: memory.current, cpu.stat, pids.current, io.stat)
 * and its network namespace (/proc/PID/net/dev). A container that is not
 * running has no usage: everything is zero.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ContainerRecord } from '../../api/types/containers';
import { cgroupDirs, readOptional, type CgroupDirs } from './cgroup';

export interface NetworkUsage {
  readonly rxBytes: number;
  readonly rxPackets: number;
  readonly rxErrors: number;
  readonly rxDropped: number;
  readonly txBytes: number;
  readonly txPackets: number;
  readonly txErrors: number;
  readonly txDropped: number;
}

export interface BlockIo {
  readonly major: number;
  readonly minor: number;
  readonly op: string;
  readonly value: number;
}

export interface ContainerStats {
  /** ISO time of the reading. */
  readonly read: string;
  readonly cpu: {
    /** Nanoseconds of CPU time used, in all and per CPU, in kernel and user mode. */
    readonly total: number;
    readonly perCpu: readonly number[];
    readonly kernel: number;
    readonly user: number;
    /** The host's CPU time in nanoseconds (for percentages). */
    readonly system: number;
    readonly onlineCpus: number;
    readonly throttling: { readonly periods: number; readonly throttledPeriods: number; readonly throttledTime: number };
  };
  readonly memory: {
    readonly usage: number;
    readonly maxUsage: number;
    readonly limit: number;
    readonly failcnt: number;
    /** memory.stat's counters. */
    readonly stats: Readonly<Record<string, number>>;
  };
  readonly pids: { readonly current: number; readonly limit: number };
  readonly blockIo: { readonly serviceBytes: readonly BlockIo[]; readonly serviced: readonly BlockIo[] };
  readonly networks: Readonly<Record<string, NetworkUsage>>;
}

const NS_PER_TICK = 1e9 / 100; // USER_HZ is 100 on Linux

const num = (text: string | undefined): number => {
  const n = Number((text ?? '').trim());
  return Number.isFinite(n) ? n : 0;
};

function keyValues(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out[k] = num(v);
  }
  return out;
}

/** The host's total CPU time (all CPUs, all states) in nanoseconds. */
async function systemCpu(): Promise<number> {
  const first = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  return first
    .trim()
    .split(/\s+/)
    .slice(1, 8)
    .reduce((sum, v) => sum + num(v), 0) * NS_PER_TICK;
}

function blkio(text: string | undefined): BlockIo[] {
  const out: BlockIo[] = [];
  for (const line of (text ?? '').split('\n')) {
    const m = /^(\d+):(\d+) (\w+) (\d+)$/.exec(line.trim());
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3] ?? '', value: Number(m[4]) });
  }
  return out;
}

/** v2's io.stat ("8:0 rbytes=1 wbytes=2 rios=3 wios=4 ...") as v1-style entries. */
function ioStat(text: string | undefined): { serviceBytes: BlockIo[]; serviced: BlockIo[] } {
  const serviceBytes: BlockIo[] = [];
  const serviced: BlockIo[] = [];
  for (const line of (text ?? '').split('\n')) {
    const [dev, ...pairs] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    const kv: Record<string, string> = Object.fromEntries(pairs.map((p) => p.split('=') as [string, string]));
    const at = { major: Number(m[1]), minor: Number(m[2]) };
    serviceBytes.push({ ...at, op: 'read', value: num(kv['rbytes']) }, { ...at, op: 'write', value: num(kv['wbytes']) });
    serviced.push({ ...at, op: 'read', value: num(kv['rios']) }, { ...at, op: 'write', value: num(kv['wios']) });
  }
  return { serviceBytes, serviced };
}

export async function networkUsage(pid: number): Promise<Record<string, NetworkUsage>> {
  const text = await readOptional(`/proc/${pid}/net/dev`);
  const out: Record<string, NetworkUsage> = {};
  for (const line of (text ?? '').split('\n').slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = (m[2] ?? '').trim().split(/\s+/).map(Number);
    out[m[1] ?? ''] = { rxBytes: f[0] ?? 0, rxPackets: f[1] ?? 0, rxErrors: f[2] ?? 0, rxDropped: f[3] ?? 0, txBytes: f[8] ?? 0, txPackets: f[9] ?? 0, txErrors: f[10] ?? 0, txDropped: f[11] ?? 0 };
  }
  return out;
}

async function v1Stats(dirs: CgroupDirs): Promise<Omit<ContainerStats, 'read' | 'networks'>> {
  const at = (controller: string, file: string): Promise<string | undefined> => {
    const dir = dirs.v1.get(controller);
    return dir ? readOptional(path.join(dir, file)) : Promise.resolve(undefined);
  };
  const [usage, perCpu, cpuStat, throttle, memUsage, memMax, memLimit, memFail, memStat, pidsCurrent, pidsMax, ioBytes, ioServiced] = await Promise.all([
    at('cpuacct', 'cpuacct.usage'),
    at('cpuacct', 'cpuacct.usage_percpu'),
    at('cpuacct', 'cpuacct.stat'),
    at('cpu', 'cpu.stat'),
    at('memory', 'memory.usage_in_bytes'),
    at('memory', 'memory.max_usage_in_bytes'),
    at('memory', 'memory.limit_in_bytes'),
    at('memory', 'memory.failcnt'),
    at('memory', 'memory.stat'),
    at('pids', 'pids.current'),
    at('pids', 'pids.max'),
    at('blkio', 'blkio.throttle.io_service_bytes_recursive'),
    at('blkio', 'blkio.throttle.io_serviced_recursive'),
  ]);
  const ticks = keyValues(cpuStat);
  const th = keyValues(throttle);
  return {
    cpu: {
      total: num(usage),
      perCpu: (perCpu ?? '').trim().split(/\s+/).filter(Boolean).map(Number),
      kernel: (ticks['system'] ?? 0) * NS_PER_TICK,
      user: (ticks['user'] ?? 0) * NS_PER_TICK,
      system: await systemCpu(),
      onlineCpus: os.cpus().length,
      throttling: { periods: th['nr_periods'] ?? 0, throttledPeriods: th['nr_throttled'] ?? 0, throttledTime: th['throttled_time'] ?? 0 },
    },
    memory: { usage: num(memUsage), maxUsage: num(memMax), limit: Math.min(num(memLimit) || os.totalmem(), os.totalmem()), failcnt: num(memFail), stats: keyValues(memStat) },
    pids: { current: num(pidsCurrent), limit: pidsMax?.trim() === 'max' ? 0 : num(pidsMax) },
    blockIo: { serviceBytes: blkio(ioBytes), serviced: blkio(ioServiced) },
  };
}

async function v2Stats(dir: string): Promise<Omit<ContainerStats, 'read' | 'networks'>> {
  const at = (file: string): Promise<string | undefined> => readOptional(path.join(dir, file));
  const [cpuStat, memCurrent, memPeak, memMax, memStat, memEvents, pidsCurrent, pidsMax, io] = await Promise.all(
    ['cpu.stat', 'memory.current', 'memory.peak', 'memory.max', 'memory.stat', 'memory.events', 'pids.current', 'pids.max', 'io.stat'].map(at),
  );
  const cpu = keyValues(cpuStat);
  const maxText = memMax?.trim();
  return {
    cpu: {
      total: (cpu['usage_usec'] ?? 0) * 1000,
      perCpu: [],
      kernel: (cpu['system_usec'] ?? 0) * 1000,
      user: (cpu['user_usec'] ?? 0) * 1000,
      system: await systemCpu(),
      onlineCpus: os.cpus().length,
      throttling: { periods: cpu['nr_periods'] ?? 0, throttledPeriods: cpu['nr_throttled'] ?? 0, throttledTime: (cpu['throttled_usec'] ?? 0) * 1000 },
    },
    memory: { usage: num(memCurrent), maxUsage: num(memPeak), limit: !maxText || maxText === 'max' ? os.totalmem() : num(maxText), failcnt: keyValues(memEvents)['oom'] ?? 0, stats: keyValues(memStat) },
    pids: { current: num(pidsCurrent), limit: pidsMax?.trim() === 'max' ? 0 : num(pidsMax) },
    blockIo: ioStat(io),
  };
}

const ZERO: Omit<ContainerStats, 'read' | 'networks'> = {
  cpu: { total: 0, perCpu: [], kernel: 0, user: 0, system: 0, onlineCpus: 0, throttling: { periods: 0, throttledPeriods: 0, throttledTime: 0 } },
  memory: { usage: 0, maxUsage: 0, limit: 0, failcnt: 0, stats: {} },
  pids: { current: 0, limit: 0 },
  blockIo: { serviceBytes: [], serviced: [] },
};

export async function containerStats(record: ContainerRecord): Promise<ContainerStats> {
  const read = new Date().toISOString();
  if (record.state.status !== 'running' || record.state.pid <= 0) return { read, ...ZERO, networks: {} };
  const pid = record.state.pid;
  const dirs = await cgroupDirs(pid).catch(() => undefined);
  if (!dirs) return { read, ...ZERO, networks: {} };
  const usage = dirs.v1.has('memory') || !dirs.v2 ? await v1Stats(dirs) : await v2Stats(dirs.v2);
  return { read, ...usage, networks: await networkUsage(pid) };
}
