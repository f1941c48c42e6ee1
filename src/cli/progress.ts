/**
 * Pull/push progress for people and machines: Docker-style bars per layer
 * on a terminal, one line per status change otherwise, and JSON lines with
 * --log-format json.
 */
import type { PullProgress } from '../api/types/images';

export interface ProgressOutput {
  readonly write: (text: string) => void;
  readonly isTTY: boolean;
  readonly columns?: number;
  readonly format: 'text' | 'json';
}

function bytes(n: number): string {
  if (n < 1024) return `${n}B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)}${units[i] ?? ''}`;
}

export function progressBar(current: number, total: number, width = 30): string {
  const ratio = total > 0 ? Math.min(1, current / total) : 0;
  const filled = Math.round(ratio * width);
  const head = filled > 0 && filled < width ? '>' : '';
  return `[${'='.repeat(Math.max(0, filled - head.length))}${head}${' '.repeat(width - filled)}] ${bytes(current)}/${bytes(total)}`;
}

export function formatProgressLine(p: PullProgress): string {
  const id = p.id ? `${p.id}: ` : '';
  const bar = p.current !== undefined && p.total !== undefined && p.total > 0 ? ` ${progressBar(p.current, p.total)}` : '';
  return `${id}${p.status}${bar}`;
}

/** Keeps one line per layer id and redraws them in place on a terminal. */
export class ProgressRenderer {
  private readonly order: string[] = [];
  private readonly lines = new Map<string, string>();
  private readonly lastStatus = new Map<string, string>();
  private drawn = 0;

  constructor(private readonly out: ProgressOutput) {}

  update(p: PullProgress): void {
    if (this.out.format === 'json') {
      this.out.write(`${JSON.stringify({ type: 'progress', ...p })}\n`);
      return;
    }
    const key = p.id ?? '';
    if (!this.out.isTTY) {
      // Without a terminal, print status changes only (no byte-by-byte noise).
      if (this.lastStatus.get(key) !== p.status) {
        this.lastStatus.set(key, p.status);
        this.out.write(`${p.id ? `${p.id}: ` : ''}${p.status}\n`);
      }
      return;
    }
    if (!this.lines.has(key)) this.order.push(key);
    this.lines.set(key, formatProgressLine(p));
    this.redraw();
  }

  private redraw(): void {
    const width = (this.out.columns ?? 80) - 1;
    let text = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    for (const key of this.order) text += `\x1b[2K${(this.lines.get(key) ?? '').slice(0, width)}\n`;
    this.drawn = this.order.length;
    this.out.write(text);
  }
}
