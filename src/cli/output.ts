/**
 * The CLI's output contract: exactly one JSON value on stdout, logs on
 * stderr, exit code 1 with {"outcome":"error"} on failure.
 */
import { toBerthError } from '../common/errors';

export interface ErrorResult {
  readonly outcome: 'error';
  readonly code: string;
  readonly message: string;
  readonly description?: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export function errorResult(err: unknown): ErrorResult {
  const e = toBerthError(err);
  const details = Object.keys(e.details).length > 0 ? { details: e.details } : {};
  return { outcome: 'error', code: e.code, message: e.message, ...details };
}

/** JSON for stdout: one line, ending in a newline. */
export function jsonLine(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}
