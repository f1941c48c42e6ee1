/** `compose ps` and `compose logs`: the project's containers found by their labels. */
import type { LogLine } from '../api/routes';
import { projectContainers, type ProjectOptions } from './down';
import { NUMBER_LABEL, SERVICE_LABEL } from './labels';

export interface PsEntry {
  readonly name: string;
  readonly service: string;
  readonly number: number;
  readonly id: string;
  readonly image: string;
  readonly status: string;
  readonly exitCode: number;
  readonly ports: readonly string[];
}

export async function composePs(o: ProjectOptions & { services?: readonly string[] }): Promise<PsEntry[]> {
  return (await projectContainers(o))
    .map((c) => ({
      name: c.name,
      service: c.request.labels?.[SERVICE_LABEL] ?? '',
      number: Number(c.request.labels?.[NUMBER_LABEL] ?? 1),
      id: c.id,
      image: c.imageRef,
      status: c.state.status,
      exitCode: c.state.exitCode,
      ports: (c.network?.boundPorts ?? []).map((p) => `${p.hostIp || '0.0.0.0'}:${p.hostPort}->${p.containerPort}/${p.protocol}`),
    }))
    .filter((e) => !o.services?.length || o.services.includes(e.service));
}

export interface ServiceLogLine extends LogLine {
  readonly service: string;
  readonly container: string;
}

/** Every container's log so far, merged by time. */
export async function composeLogs(o: ProjectOptions & { services?: readonly string[]; tail?: number }): Promise<ServiceLogLine[]> {
  const out: ServiceLogLine[] = [];
  for (const c of await projectContainers(o)) {
    const service = c.request.labels?.[SERVICE_LABEL] ?? '';
    if (o.services?.length && !o.services.includes(service)) continue;
    const query = { timestamps: 'true', ...(o.tail !== undefined ? { tail: String(o.tail) } : {}) };
    for await (const l of o.api.stream('containerLogs', { params: { id: c.id }, query, ...(o.signal ? { signal: o.signal } : {}) })) out.push({ ...l, service, container: c.name });
  }
  return out.sort((a, b) => a.time.localeCompare(b.time));
}
