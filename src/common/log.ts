/**
 * A small structured logger. Pass it down; add fields with child().
 * Text format for humans (stderr), JSON lines for machines.
 */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';

const LEVELS: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50 };

export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

export interface LogRecord {
  readonly time: string;
  readonly level: LogLevel;
  readonly msg: string;
  readonly fields: LogFields;
}

export interface Logger {
  trace(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  readonly level?: LogLevel;
  readonly format?: LogFormat;
  readonly write: (line: string) => void;
  readonly now?: () => Date;
}

export function formatRecord(record: LogRecord, format: LogFormat): string {
  if (format === 'json') {
    return JSON.stringify({ time: record.time, level: record.level, msg: record.msg, ...record.fields }) + '\n';
  }
  const extra = Object.entries(record.fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : String(v)}`)
    .join(' ');
  const prefix = record.level === 'info' ? '' : `${record.level}: `;
  return `${prefix}${record.msg}${extra ? ` (${extra})` : ''}\n`;
}

export function createLogger(options: LoggerOptions, base: LogFields = {}): Logger {
  const min = LEVELS[options.level ?? 'info'];
  const format = options.format ?? 'text';
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (LEVELS[level] < min) return;
    options.write(formatRecord({ time: now().toISOString(), level, msg, fields: { ...base, ...fields } }, format));
  };
  return {
    trace: (m, f) => emit('trace', m, f),
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(options, { ...base, ...fields }),
  };
}

/** A logger that drops everything; for library callers that do not care. */
export function silentLogger(): Logger {
  return createLogger({ level: 'error', write: () => undefined });
}
