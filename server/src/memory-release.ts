/**
 * Gives memory back once the agent goes idle. An agent waits in every dev
 * container, mostly idle, but a session leaves it holding what the session
 * paged in: node's code and data that its start and a burst of work touched
 * (file pages of node's own binary and its libraries, some 43 MB after an
 * exec and a tunnel, of which an idle agent uses a fifth) and malloc's and
 * V8's free memory (some 10 MB after a busy tunnel).
 *
 * Once a second the agent looks at its CPU time. When the last second was
 * quiet and something ran since the last release, it collects V8's heap,
 * trims malloc's heap, and drops the pages of the read-only file mappings
 * with madvise(MADV_DONTNEED): the kernel faults back from the page cache
 * whatever the agent uses again (a minor fault per 64 KiB). Mappings holding
 * a page of their own (Anonymous > 0: a copy-on-write page, as the loader's
 * relocations make) are left alone, since dropping would lose that page.
 *
 * Node's own start touches most of what it maps (33 MB of file pages for a
 * bare node), and little of that runs again. So a second after the start,
 * busy or not, the agent drops its file pages once (about 5 ms of CPU).
 *
 * Measured with bench/agent.mjs: an idle agent 68 MB → 20-23 MB resident after a
 * session; a full release takes 15-25 ms of CPU.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from '../../src/common/log';
import type { NativeCalls } from './native';

export type MemoryCalls = Pick<NativeCalls, 'dropPages' | 'trimHeap'>;

/** A mapping whose resident pages only mirror a file. */
export interface PageRange {
  readonly start: number;
  readonly length: number;
  readonly residentKiB: number;
}

const HEADER = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$/;

/**
 * The mappings of /proc/self/smaps that MADV_DONTNEED may drop without
 * losing anything: private, not writable, backed by a file that still
 * exists, with resident pages and none of their own (Anonymous: 0 kB).
 */
export function releasableRanges(smaps: string): PageRange[] {
  const ranges: PageRange[] = [];
  let current: { start: number; length: number; candidate: boolean; rss: number; anonymous: number } | undefined;
  const close = (): void => {
    if (current?.candidate && current.rss > 0 && current.anonymous === 0) ranges.push({ start: current.start, length: current.length, residentKiB: current.rss });
  };
  for (const line of smaps.split('\n')) {
    const header = HEADER.exec(line);
    if (header) {
      close();
      const [, from = '', to = '', perms = '', name = ''] = header;
      const start = parseInt(from, 16);
      current = {
        start,
        length: parseInt(to, 16) - start,
        candidate: perms[1] !== 'w' && perms[3] === 'p' && name.startsWith('/') && !name.endsWith(' (deleted)'),
        rss: 0,
        // Unknown until its line says so: a mapping without one is not dropped.
        anonymous: -1,
      };
    } else if (current) {
      const field = /^(Rss|Anonymous):\s+(\d+) kB/.exec(line);
      if (field?.[1] === 'Rss') current.rss = Number(field[2]);
      else if (field?.[1] === 'Anonymous') current.anonymous = Number(field[2]);
    }
  }
  close();
  return ranges;
}

export interface IdleReleaseOptions {
  readonly calls: MemoryCalls;
  /** A full collection of V8's heap first (globalThis.gc under --expose-gc), so that dead buffers reach malloc's free lists. */
  readonly gc?: () => void;
  readonly logger?: Logger;
  /** When the file pages of the start are dropped (1 s after start()). */
  readonly afterStartMs?: number;
  /** How often it looks (1 s); a second with less CPU than idleCpuMs (20 ms) is quiet; workCpuMs (30 ms) since the last release is worth a release. */
  readonly intervalMs?: number;
  readonly idleCpuMs?: number;
  readonly workCpuMs?: number;
}

export interface ReleaseReport {
  readonly mappings: number;
  readonly droppedKiB: number;
  readonly heapTrimmed: boolean;
  readonly ms: number;
}

export class IdleMemoryRelease {
  private timer: NodeJS.Timeout | undefined;

  private startTimer: NodeJS.Timeout | undefined;

  private lastCpu = 0;

  private workSince = 0;

  private releases = 0;

  constructor(private readonly options: IdleReleaseOptions) {}

  start(): this {
    this.lastCpu = processCpuMs();
    this.workSince = this.lastCpu;
    this.timer = setInterval(() => {
      const now = processCpuMs();
      const last = now - this.lastCpu;
      this.lastCpu = now;
      this.workSince += last;
      if (last < (this.options.idleCpuMs ?? 20) && this.workSince >= (this.options.workCpuMs ?? 30)) {
        this.releaseOrStop();
        // What the release itself cost is not work to release after.
        this.lastCpu = processCpuMs();
        this.workSince = 0;
      }
    }, this.options.intervalMs ?? 1000);
    this.timer.unref();
    // Not again when a quiet second came first and released it all.
    const releasesBefore = this.releases;
    this.startTimer = setTimeout(() => this.releases === releasesBefore && this.releaseOrStop({ heaps: false }), this.options.afterStartMs ?? 1000);
    this.startTimer.unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.startTimer);
    this.timer = undefined;
    this.startTimer = undefined;
  }

  /** From the timers: a release that fails (say, no /proc/self/smaps) stops them, and never takes the agent down. */
  private releaseOrStop(what?: { heaps?: boolean }): void {
    try {
      this.release(what);
    } catch (err) {
      this.stop();
      this.options.logger?.warn('the agent stops giving memory back', { error: (err as Error).message });
    }
  }

  /** One release now; `heaps: false` drops file pages only (no collection, no trim). */
  release({ heaps = true }: { heaps?: boolean } = {}): ReleaseReport {
    const t0 = performance.now();
    if (heaps) this.options.gc?.();
    const heapTrimmed = heaps && this.options.calls.trimHeap();
    let mappings = 0;
    let droppedKiB = 0;
    this.releases++;
    for (const range of releasableRanges(readFileSync('/proc/self/smaps', 'utf8'))) {
      const errno = this.options.calls.dropPages(range.start, range.length);
      if (errno === 0) {
        mappings++;
        droppedKiB += range.residentKiB;
      } else this.options.logger?.debug('madvise failed', { start: range.start.toString(16), errno });
    }
    const report = { mappings, droppedKiB, heapTrimmed, ms: performance.now() - t0 };
    this.options.logger?.debug('gave memory back', { ...report });
    return report;
  }
}

function processCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
