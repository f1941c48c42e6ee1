/** The one place where error kinds become HTTP statuses, and back. */
import { BerthError, ERROR_CODES, type ErrorCode } from '../common/errors';

const STATUS: Readonly<Record<ErrorCode, number>> = {
  not_found: 404,
  already_exists: 409,
  invalid_argument: 400,
  failed_precondition: 412,
  conflict: 409,
  unavailable: 503,
  cancelled: 499,
  not_implemented: 501,
  internal: 500,
  unauthenticated: 401,
  permission_denied: 403,
  resource_exhausted: 429,
};

export function statusForCode(code: ErrorCode): number {
  return STATUS[code];
}

export interface ErrorBody {
  readonly code: ErrorCode;
  readonly message: string;
}

export function errorBody(err: BerthError): ErrorBody {
  return { code: err.code, message: err.message };
}

/** Rebuilds the BerthError a server sent, from its body (or its status alone). */
export function errorFromResponse(status: number, body: unknown): BerthError {
  const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const code = (ERROR_CODES as readonly string[]).includes(String(record['code'])) ? (record['code'] as ErrorCode) : codeForStatus(status);
  const message = typeof record['message'] === 'string' ? record['message'] : `request failed with HTTP ${status}`;
  return new BerthError(code, message);
}

export function codeForStatus(status: number): ErrorCode {
  const found = (Object.entries(STATUS) as [ErrorCode, number][]).find(([, s]) => s === status);
  return found ? found[0] : status >= 500 ? 'internal' : 'invalid_argument';
}
