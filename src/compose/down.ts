/**
 * `compose down` and `compose stop` by project name (the labels find
 * everything, so the files are not needed): dependents stop first; down
 * removes the containers and the project's networks, and its volumes with
 * `volumes: true`.
 */
import type { ApiClient } from '../api/client';
import type { ContainerRecord } from '../api/types/containers';
import { BerthError } from '../common/errors';
import type { Logger } from '../common/log';
import { DEPENDS_ON_LABEL, PROJECT_LABEL, SERVICE_LABEL } from './labels';

export interface ProjectOptions {
  readonly api: ApiClient;
  readonly project: string;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
}

export async function projectContainers(o: ProjectOptions): Promise<ContainerRecord[]> {
  const list = await o.api.call('containerList', { query: { all: 'true', filters: JSON.stringify({ label: [`${PROJECT_LABEL}=${o.project}`] }) }, ...(o.signal ? { signal: o.signal } : {}) });
  return [...list].sort((a, b) => a.name.localeCompare(b.name));
}

/** Groups of containers to stop one after the other: those no other container depends on first. */
export function stopOrder(containers: readonly ContainerRecord[]): ContainerRecord[][] {
  const service = (c: ContainerRecord): string => c.request.labels?.[SERVICE_LABEL] ?? c.name;
  const deps = (c: ContainerRecord): string[] => (c.request.labels?.[DEPENDS_ON_LABEL] ?? '').split(',').filter(Boolean).map((d) => d.split(':')[0] ?? '');
  let left = [...containers];
  const out: ContainerRecord[][] = [];
  while (left.length > 0) {
    const needed = new Set(left.flatMap(deps));
    let wave = left.filter((c) => !needed.has(service(c)));
    if (wave.length === 0) wave = left; // a cycle: the rest at once
    out.push(wave);
    left = left.filter((c) => !wave.includes(c));
  }
  return out;
}

export async function composeStop(o: ProjectOptions & { timeoutS?: number }): Promise<string[]> {
  const s = o.signal ? { signal: o.signal } : {};
  const stopped: string[] = [];
  for (const wave of stopOrder(await projectContainers(o))) {
    await Promise.all(
      wave
        .filter((c) => c.state.status === 'running' || c.state.status === 'paused' || c.state.status === 'restarting')
        .map(async (c) => {
          o.logger.info(`stopping ${c.name}`);
          await o.api.call('containerStop', { params: { id: c.id }, query: o.timeoutS !== undefined ? { timeout: String(o.timeoutS) } : {}, ...s });
          stopped.push(c.name);
        }),
    );
  }
  return stopped.sort();
}

export interface DownResult {
  readonly containers: readonly string[];
  readonly networks: readonly string[];
  readonly volumes: readonly string[];
}

export async function composeDown(o: ProjectOptions & { volumes?: boolean; timeoutS?: number }): Promise<DownResult> {
  const s = o.signal ? { signal: o.signal } : {};
  const containers = await projectContainers(o);
  await composeStop(o);
  for (const c of containers) {
    o.logger.info(`removing ${c.name}`);
    await o.api.call('containerRemove', { params: { id: c.id }, query: { force: 'true', ...(o.volumes ? { volumes: 'true' } : {}) }, ...s });
  }
  const label = (labels: Readonly<Record<string, string>>): boolean => labels[PROJECT_LABEL] === o.project;
  const networks = (await o.api.call('networkList', s)).filter((n) => label(n.labels)).map((n) => n.name);
  for (const name of networks) {
    o.logger.info(`removing network ${name}`);
    await o.api.call('networkRemove', { params: { name }, ...s }).catch((err: unknown) => {
      if (!BerthError.is(err, 'not_found')) throw err;
    });
  }
  const volumes = o.volumes ? (await o.api.call('volumeList', { query: { filters: JSON.stringify({ label: [`${PROJECT_LABEL}=${o.project}`] }) }, ...s })).map((v) => v.name) : [];
  for (const name of volumes) {
    o.logger.info(`removing volume ${name}`);
    await o.api.call('volumeRemove', { params: { name }, ...s });
  }
  return { containers: containers.map((c) => c.name), networks, volumes };
}
