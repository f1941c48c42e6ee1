/**
 * `berth ... --log-format json` writes one JSON record a line on stderr:
 * log records {time, level, msg, ...fields} and pull progress
 * {type: "progress", id?, status, current?, total?}. This turns them into
 * text for the output channel and short messages for a progress
 * notification. Pure, unit-tested.
 */
export interface LogLine {
  /** A line for the output channel. */
  readonly text: string;
  /** A short message for the progress notification, when the line deserves one. */
  readonly progress?: string;
  readonly level: 'trace' | 'debug' | 'info' | 'warn' | 'error';
}

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error']);

export function parseLogLine(line: string): LogLine | undefined {
  const trimmed = line.trim();
  if (trimmed === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return { text: trimmed, level: 'info' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { text: trimmed, level: 'info' };
  const rec = value as Record<string, unknown>;
  if (rec['type'] === 'progress') {
    const id = typeof rec['id'] === 'string' ? `${rec['id']}: ` : '';
    const status = typeof rec['status'] === 'string' ? rec['status'] : '';
    return { text: `${id}${status}`, progress: `${id}${status}`, level: 'info' };
  }
  const msg = typeof rec['msg'] === 'string' ? rec['msg'] : trimmed;
  const level = typeof rec['level'] === 'string' && LEVELS.has(rec['level']) ? (rec['level'] as LogLine['level']) : 'info';
  const fields = Object.entries(rec)
    .filter(([k, v]) => !['time', 'level', 'msg'].includes(k) && v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const text = `${level === 'info' ? '' : `${level}: `}${msg}${fields.length ? ` (${fields.join(' ')})` : ''}`;
  return level === 'info' || level === 'warn' || level === 'error' ? { text, progress: msg, level } : { text, level };
}

/** Splits a byte stream into lines, keeping the unfinished tail. */
export class LineSplitter {
  private tail = '';
  push(chunk: string): string[] {
    this.tail += chunk;
    const lines = this.tail.split('\n');
    this.tail = lines.pop() ?? '';
    return lines;
  }
  end(): string[] {
    const rest = this.tail;
    this.tail = '';
    return rest === '' ? [] : [rest];
  }
}
