/**
 * One error class for all of Berth. The code is a closed set; it is mapped to
 * wire codes (HTTP status, CLI exit code) only at the edges.
 */
export const ERROR_CODES = [
  'not_found',
  'already_exists',
  'invalid_argument',
  'failed_precondition',
  'conflict',
  'unavailable',
  'cancelled',
  'not_implemented',
  'internal',
  /** No valid credentials (the gateway's tokens). */
  'unauthenticated',
  /** Valid credentials, but not for this. */
  'permission_denied',
  /** Too many attempts (auth failures). */
  'resource_exhausted',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorDetails {
  /** File the error is about, if any. */
  readonly file?: string;
  /** 1-based line and column in `file`. */
  readonly line?: number;
  readonly column?: number;
  /** JSON path of the offending value, e.g. `build.args.FOO`. */
  readonly path?: string;
  readonly [key: string]: unknown;
}

export class BerthError extends Error {
  override readonly name = 'BerthError';
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: ErrorDetails } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }

  static is(err: unknown, code?: ErrorCode): err is BerthError {
    return err instanceof BerthError && (code === undefined || err.code === code);
  }
}

/** A feature that depends on a part of Berth that does not exist yet. */
export function notYet(what: string, issue: number): BerthError {
  return new BerthError('not_implemented', `${what} is not available yet (tracked in issue #${issue})`);
}

/** Turns anything thrown into a BerthError, keeping the original as `cause`. */
export function toBerthError(err: unknown): BerthError {
  if (err instanceof BerthError) return err;
  if (err instanceof Error && err.name === 'AbortError') {
    return new BerthError('cancelled', 'operation cancelled', { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new BerthError('internal', message, { cause: err });
}
