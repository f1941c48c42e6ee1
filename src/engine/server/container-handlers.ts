import type { ExecMessage } from '../../api/routes';
import type { ContainerStatus, EngineEvent, ExecRequest, ListFilters } from '../../api/types/containers';
import { AsyncQueue } from '../../common/async-queue';
import { BerthError } from '../../common/errors';
import type { Handlers } from './router';
import type { ContainerService, EventSource } from './services';

const truthy = (v: string | undefined): boolean => v === 'true' || v === '1';

function optionalInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new BerthError('invalid_argument', `${name} must be an integer (got "${value}")`);
  return n;
}

/** Docker-style filters: a JSON object of string arrays, e.g. {"label":["a=b"],"status":["running"]}. */
export function parseFilters(text: string | undefined, all: boolean): ListFilters {
  if (text === undefined || text === '') return { all };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new BerthError('invalid_argument', `filters must be JSON (got ${text})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new BerthError('invalid_argument', 'filters must be a JSON object');
  const out: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (!['label', 'name', 'id', 'status', 'ancestor', 'health'].includes(key)) throw new BerthError('invalid_argument', `unknown filter "${key}"`);
    const list = Array.isArray(value) ? value : typeof value === 'object' && value !== null ? Object.keys(value) : [value];
    out[key] = list.map(String);
  }
  const badHealth = out['health']?.find((h) => !['starting', 'healthy', 'unhealthy', 'none'].includes(h));
  if (badHealth !== undefined) throw new BerthError('invalid_argument', `Unrecognised filter value for health: ${badHealth}`);
  return { all: all || out['status'] !== undefined, ...out, status: out['status'] as ContainerStatus[] | undefined };
}

export function matchesEvent(event: EngineEvent, filters: ListFilters & { type?: readonly string[] }): boolean {
  if (filters.label?.length) {
    for (const label of filters.label) {
      const [k = '', v] = label.split('=');
      if (event.attributes[k] === undefined || (v !== undefined && event.attributes[k] !== v)) return false;
    }
  }
  if (filters.id?.length && !filters.id.some((id) => event.id.startsWith(id))) return false;
  if (filters.name?.length && !filters.name.includes(event.attributes['name'] ?? '')) return false;
  return true;
}

/** Runs an exec and streams its output as text, then its exit code; the client going away kills it. */
async function* execMessages(containers: ContainerService, id: string, body: ExecRequest, signal: AbortSignal): AsyncGenerator<ExecMessage> {
  if (typeof body !== 'object' || body === null || !Array.isArray(body.cmd) || body.cmd.length === 0) throw new BerthError('invalid_argument', 'an exec needs a "cmd"');
  const session = await containers.exec(id, { ...body, tty: false, attachStdin: false }, { signal });
  const onAbort = (): void => session.kill(9);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
    for await (const chunk of session.output()) {
      const text = decoders[chunk.stream].decode(chunk.data, { stream: true });
      if (text) yield { stream: chunk.stream, text };
    }
    yield { exitCode: await session.exit };
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

export function containerHandlers(containers: ContainerService, events: EventSource): Handlers {
  return {
    containerCreate: async ({ body, signal }) => {
      if (typeof body !== 'object' || body === null || typeof body.image !== 'string') {
        throw new BerthError('invalid_argument', 'a container needs an "image"');
      }
      const record = await containers.create(body, { signal });
      return { id: record.id, name: record.name };
    },
    containerList: ({ query }) => containers.list(parseFilters(query.filters, truthy(query.all))),
    containerInspect: ({ params }) => containers.inspect(params.id),
    containerStart: async ({ params, signal }) => {
      await containers.start(params.id, { signal });
      return { ok: true };
    },
    containerStop: async ({ params, query }) => {
      const timeout = optionalInt(query.timeout, 'timeout');
      await containers.stop(params.id, timeout === undefined ? {} : { timeout });
      return { ok: true };
    },
    containerKill: async ({ params, query }) => {
      await containers.kill(params.id, query.signal);
      return { ok: true };
    },
    containerRestart: async ({ params, query }) => {
      const timeout = optionalInt(query.timeout, 'timeout');
      await containers.restart(params.id, timeout === undefined ? {} : { timeout });
      return { ok: true };
    },
    containerWait: ({ params, signal }) => containers.wait(params.id, { signal }),
    containerLogs: ({ params, query, signal }) => {
      const tail = optionalInt(query.tail, 'tail');
      const since = optionalInt(query.since, 'since');
      return containers.logs(params.id, {
        follow: truthy(query.follow),
        signal,
        ...(tail === undefined ? {} : { tail }),
        ...(since === undefined ? {} : { since }),
      });
    },
    containerStats: async ({ params }) => {
      const s = await containers.stats(params.id);
      return { read: s.read, cpuNs: s.cpu.total, systemCpuNs: s.cpu.system, onlineCpus: s.cpu.onlineCpus, memoryBytes: s.memory.usage, memoryLimitBytes: s.memory.limit, pids: s.pids.current };
    },
    containerExec: ({ params, body, signal }) => execMessages(containers, params.id, body, signal),
    containerFilesRead: async ({ params, query }) => ({ entries: await containers.readFiles(params.id, query.path) }),
    containerFilesWrite: async ({ params, body }) => {
      await containers.writeFiles(params.id, body?.entries);
      return { ok: true };
    },
    containerRemove: async ({ params, query }) => {
      await containers.remove(params.id, { force: truthy(query.force), volumes: truthy(query.volumes) });
      return { ok: true };
    },
    events: ({ query, signal }) => {
      const filters = parseFilters(query.filters, true);
      if (query.since !== undefined && !/^\d{1,20}$/.test(query.since)) throw new BerthError('invalid_argument', `since is a Unix time in nanoseconds, not "${query.since}"`);
      const since = query.since === undefined ? undefined : BigInt(query.since);
      let unsubscribe = (): void => undefined;
      const queue = new AsyncQueue<EngineEvent>(() => unsubscribe());
      unsubscribe = events.subscribe(
        (event) => {
          if (matchesEvent(event, filters)) queue.push(event);
        },
        { since },
      );
      signal.addEventListener('abort', () => {
        unsubscribe();
        queue.end();
      });
      return queue;
    },
  };
}
