/** The dashboard's calls to the gateway: same origin, authenticated by the login cookie. */
import type { ContainerRecord } from '../../src/api/types/containers';

export type { ContainerRecord };

/** One reading of GET /v1/containers/{id}/stats. */
export interface Usage {
  readonly cpuNs: number;
  readonly systemCpuNs: number;
  readonly onlineCpus: number;
  readonly memoryBytes: number;
  readonly memoryLimitBytes: number;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function call<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    ...(signal ? { signal } : {}),
  });
  const text = await res.text();
  let value: unknown = text;
  try {
    value = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const message = typeof value === 'object' && value !== null && 'message' in value ? String((value).message) : `HTTP ${res.status}`;
    throw new HttpError(res.status, message);
  }
  return value as T;
}

/** NDJSON lines of a streaming answer, as they come. */
export async function* lines(path: string, signal: AbortSignal): AsyncGenerator<unknown> {
  const res = await fetch(path, { credentials: 'same-origin', signal });
  if (!res.ok || !res.body) throw new HttpError(res.status, `HTTP ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += value;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line) yield JSON.parse(line) as unknown;
    }
  }
}
