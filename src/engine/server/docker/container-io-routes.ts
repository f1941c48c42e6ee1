/**
 * Docker's endpoints that look inside a container: `docker top`,
 * `docker stats` and `docker cp` (archive GET/HEAD/PUT with the
 * X-Docker-Container-Path-Stat header), translated to the container service.
 */
import type http from 'node:http';
import { pipeline } from 'node:stream/promises';
import { BerthError } from '../../../common/errors';
import type { PathStat } from '../../containers/archive';
import type { ContainerStats } from '../../containers/stats';
import type { ContainerService } from '../services';
import type { Route } from './docker-server';
import { send, truthy } from './respond';

const STAT_HEADER = 'X-Docker-Container-Path-Stat';

function statHeader(st: PathStat): string {
  return Buffer.from(JSON.stringify({ name: st.name, size: st.size, mode: st.mode, mtime: st.mtime, linkTarget: st.linkTarget })).toString('base64');
}

function requiredPath(query: URLSearchParams): string {
  const p = query.get('path');
  if (!p) throw new BerthError('invalid_argument', 'path is required');
  return p;
}

function cpuStats(s: ContainerStats): Record<string, unknown> {
  return {
    cpu_usage: { total_usage: s.cpu.total, percpu_usage: s.cpu.perCpu.length ? s.cpu.perCpu : undefined, usage_in_kernelmode: s.cpu.kernel, usage_in_usermode: s.cpu.user },
    system_cpu_usage: s.cpu.system,
    online_cpus: s.cpu.onlineCpus,
    throttling_data: { periods: s.cpu.throttling.periods, throttled_periods: s.cpu.throttling.throttledPeriods, throttled_time: s.cpu.throttling.throttledTime },
  };
}

/** Docker's stats JSON (cgroup v1 field names; v2 readings are mapped onto them). */
export function dockerStats(id: string, name: string, now: ContainerStats, before: ContainerStats | undefined): Record<string, unknown> {
  const blk = (l: ContainerStats['blockIo']['serviceBytes']): unknown[] => l.map((e) => ({ major: e.major, minor: e.minor, op: e.op, value: e.value }));
  return {
    id,
    name: `/${name}`,
    read: now.read,
    preread: before?.read ?? '0001-01-01T00:00:00Z',
    pids_stats: { current: now.pids.current, ...(now.pids.limit > 0 ? { limit: now.pids.limit } : {}) },
    blkio_stats: { io_service_bytes_recursive: blk(now.blockIo.serviceBytes), io_serviced_recursive: blk(now.blockIo.serviced) },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuStats(now),
    precpu_stats: before ? cpuStats(before) : { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
    memory_stats: now.memory.limit > 0 ? { usage: now.memory.usage, max_usage: now.memory.maxUsage, stats: now.memory.stats, failcnt: now.memory.failcnt, limit: now.memory.limit } : {},
    networks: Object.fromEntries(
      Object.entries(now.networks).map(([dev, n]) => [
        dev,
        { rx_bytes: n.rxBytes, rx_packets: n.rxPackets, rx_errors: n.rxErrors, rx_dropped: n.rxDropped, tx_bytes: n.txBytes, tx_packets: n.txPackets, tx_errors: n.txErrors, tx_dropped: n.txDropped },
      ]),
    ),
  };
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

async function streamStats(containers: ContainerService, res: http.ServerResponse, id: string, query: URLSearchParams, signal: AbortSignal): Promise<void> {
  const c = await containers.inspect(id);
  const stream = query.get('stream') === null || truthy(query.get('stream'));
  const oneShot = truthy(query.get('one-shot'));
  res.writeHead(200, { 'content-type': 'application/json' });
  let before = oneShot ? undefined : await containers.stats(c.id);
  // Like Docker: one reading a second; a single answer still waits for two, so CPU use has a base.
  if (!oneShot) await sleep(1000, signal);
  for (;;) {
    const now = await containers.stats(c.id);
    res.write(`${JSON.stringify(dockerStats(c.id, c.name, now, before))}\n`);
    if (!stream || signal.aborted) break;
    before = now;
    await sleep(1000, signal);
    if (signal.aborted) break;
  }
  res.end();
}

export function containerIoRoutes(containers: ContainerService): Route[] {
  return [
    [
      'GET',
      /^\/containers\/([^/]+)\/top$/,
      async ({ res, params, query, signal }) => {
        const t = await containers.top(params[0] ?? '', query.get('ps_args') ?? undefined, { signal });
        send(res, 200, { Titles: t.titles, Processes: t.processes });
      },
    ],
    ['GET', /^\/containers\/([^/]+)\/stats$/, ({ res, params, query, signal }) => streamStats(containers, res, params[0] ?? '', query, signal)],
    [
      'HEAD',
      /^\/containers\/([^/]+)\/archive$/,
      async ({ res, params, query, signal }) => {
        const st = await containers.statPath(params[0] ?? '', requiredPath(query), { signal });
        res.writeHead(200, { [STAT_HEADER]: statHeader(st), 'content-type': 'application/json' });
        res.end();
      },
    ],
    [
      'GET',
      /^\/containers\/([^/]+)\/archive$/,
      async ({ res, params, query, signal }) => {
        const { stat, tar } = await containers.archive(params[0] ?? '', requiredPath(query), { signal });
        res.writeHead(200, { [STAT_HEADER]: statHeader(stat), 'content-type': 'application/x-tar' });
        await pipeline(tar, res).catch(() => res.destroy());
      },
    ],
    [
      'PUT',
      /^\/containers\/([^/]+)\/archive$/,
      async ({ req, res, params, query, signal }) => {
        await containers.extractArchive(params[0] ?? '', requiredPath(query), req, { copyOwners: truthy(query.get('copyUIDGID')), signal });
        send(res, 200);
      },
    ],
  ];
}
