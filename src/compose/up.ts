/**
 * `compose up`: the networks and volumes, then each service's container,
 * dependencies first. A service waits for what it depends on (started,
 * healthy, or exited with 0) and starts as soon as that holds, so
 * independent services come up side by side. A container whose config
 * hash is unchanged is kept (started if stopped); a changed one is made again.
 */
import type { ApiClient } from '../api/client';
import type { ContainerCreateRequest, ContainerRecord } from '../api/types/containers';
import type { ImageRecord } from '../api/types/images';
import { BerthError } from '../common/errors';
import { imageHealthcheck, waitHealthy } from './health';
import { serviceImage, type ImageOptions } from './images';
import { CONFIG_HASH_LABEL, PROJECT_LABEL, SERVICE_LABEL, projectFilter } from './labels';
import { servicesToStart } from './plan';
import { ensureResources } from './resources';
import { serviceRequest, withConfigHash } from './service-request';
import type { ComposeProject, ComposeService, Dependency } from './types';

export interface ComposeUpOptions extends ImageOptions {
  readonly project: ComposeProject;
  /** Services to start (with their dependencies); default: every active one. */
  readonly services?: readonly string[];
  /** Make every container again, even unchanged ones. */
  readonly forceRecreate?: boolean;
  /** Services whose existing container is kept whatever its hash (started if stopped). */
  readonly keep?: readonly string[];
  /** Images already made for some services (the dev container's, with its features): neither built nor pulled again. */
  readonly prepared?: ReadonlyMap<string, { readonly reference: string; readonly image: ImageRecord }>;
  /** Changes a service's create request before the container is made (the dev container's additions). */
  readonly customize?: (service: ComposeService, request: ContainerCreateRequest, image: ImageRecord) => Promise<ContainerCreateRequest> | ContainerCreateRequest;
}

export interface ServiceUp {
  readonly service: string;
  readonly containerId: string;
  readonly name: string;
  /** Made by this up (not an existing container kept). */
  readonly created: boolean;
}

export interface ComposeUpResult {
  readonly project: string;
  readonly services: readonly ServiceUp[];
}

async function existing(api: ApiClient, project: string, service: string, signal?: AbortSignal): Promise<ContainerRecord | undefined> {
  const list = await api.call('containerList', { query: { all: 'true', filters: projectFilter(project, service) }, ...(signal ? { signal } : {}) });
  return [...list].sort((a, b) => b.created.localeCompare(a.created))[0];
}

async function createOrReuse(o: ComposeUpOptions, service: ComposeService, found: ContainerRecord | undefined, request: ContainerCreateRequest | undefined): Promise<ServiceUp> {
  const { api, logger } = o;
  const s = o.signal ? { signal: o.signal } : {};
  if (found && (!request || (!o.forceRecreate && found.request.labels?.[CONFIG_HASH_LABEL] === request.labels?.[CONFIG_HASH_LABEL]))) {
    if (found.state.status !== 'running') {
      logger.info(`starting ${found.name}`);
      await api.call('containerStart', { params: { id: found.id }, ...s });
    }
    return { service: service.name, containerId: found.id, name: found.name, created: false };
  }
  if (found) {
    logger.info(`recreating ${found.name}`);
    await api.call('containerRemove', { params: { id: found.id }, query: { force: 'true' }, ...s });
  }
  if (!request) throw new BerthError('internal', `no create request for service ${service.name}`);
  const { id, name } = await api.call('containerCreate', { body: request, ...s });
  await api.call('containerStart', { params: { id }, ...s });
  logger.info(`started ${name}`);
  return { service: service.name, containerId: id, name, created: true };
}

/** The image of a kept container (for its HEALTHCHECK). */
async function imageOf(api: ApiClient, containerId: string, signal?: AbortSignal): Promise<ImageRecord | undefined> {
  const s = signal ? { signal } : {};
  const record = await api.call('containerInspect', { params: { id: containerId }, ...s });
  return api.call('imageInspect', { params: { name: record.imageId }, ...s }).catch(() => undefined);
}

export async function composeUp(o: ComposeUpOptions): Promise<ComposeUpResult> {
  const { api, project, logger } = o;
  const s = o.signal ? { signal: o.signal } : {};
  const order = servicesToStart(project, o.services ?? []);
  for (const w of project.warnings) logger.warn(w);
  const all = await api.call('containerList', { query: { all: 'true', filters: JSON.stringify({ label: [`${PROJECT_LABEL}=${project.name}`] }) }, ...s });
  for (const c of all) {
    const service = c.request.labels?.[SERVICE_LABEL] ?? '';
    if (!project.services[service]) logger.warn(`${c.name} belongs to service ${service}, which the Compose files no longer have; 'berth compose down' removes it`);
  }
  await ensureResources({ api, project, services: order, logger, ...s });
  const images = new Map<string, ImageRecord>();
  const requests = new Map<string, ContainerCreateRequest>();
  const found = new Map<string, ContainerRecord | undefined>();
  for (const name of order) {
    const svc = project.services[name] as ComposeService;
    if (svc.restart && svc.restart !== 'no') logger.warn(`service ${name}: restart: ${svc.restart} is not supported by Berth's engine yet; the container is not restarted`);
    found.set(name, await existing(api, project.name, name, o.signal));
    if (o.keep?.includes(name) && found.get(name)) continue;
    const { reference, image } = o.prepared?.get(name) ?? (await serviceImage(o, project, svc));
    images.set(name, image);
    const base = serviceRequest(project, svc, { reference, id: image.id });
    requests.set(name, o.customize ? withConfigHash(await o.customize(svc, base, image)) : base);
  }
  const started = new Map<string, Promise<ServiceUp>>();
  const healthy = new Map<string, Promise<void>>();
  const condition = async (dep: string, d: Dependency): Promise<void> => {
    const up = await (started.get(dep) as Promise<ServiceUp>);
    if (d.condition === 'service_healthy') {
      const svc = project.services[dep] as ComposeService;
      const hc = svc.healthcheck ?? imageHealthcheck((images.get(dep) ?? (await imageOf(api, up.containerId, o.signal)))?.config.config);
      if (!hc || hc.test[0] === 'NONE') throw new BerthError('failed_precondition', `service ${dep} has no healthcheck, so "condition: service_healthy" cannot hold`);
      if (!healthy.has(dep)) healthy.set(dep, waitHealthy({ api, containerId: up.containerId, service: dep, healthcheck: hc, logger, ...s }));
      await healthy.get(dep);
    } else if (d.condition === 'service_completed_successfully') {
      const { exitCode } = await api.call('containerWait', { params: { id: up.containerId }, ...s });
      if (exitCode !== 0) throw new BerthError('failed_precondition', `service ${dep} did not complete successfully: exit code ${exitCode}`);
    }
  };
  for (const name of order) {
    const svc = project.services[name] as ComposeService;
    const deps = Object.entries(svc.dependsOn).filter(([dep]) => order.includes(dep));
    started.set(
      name,
      (async () => {
        await Promise.all(
          deps.map(async ([dep, d]) => {
            try {
              await condition(dep, d);
            } catch (err) {
              if (d.required) throw err;
              logger.warn(`service ${name}: optional dependency ${dep}: ${(err as Error).message}`);
            }
          }),
        );
        return createOrReuse(o, svc, found.get(name), requests.get(name));
      })(),
    );
  }
  const settled = await Promise.allSettled([...started.values(), ...healthy.values()]);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return { project: project.name, services: await Promise.all(order.map((n) => started.get(n) as Promise<ServiceUp>)) };
}
