/**
 * The project's networks (PROJECT_default and the declared ones) and named
 * volumes (PROJECT_NAME), made when missing, with Compose's labels; external
 * ones must exist already.
 */
import type { ApiClient } from '../api/client';
import { BerthError } from '../common/errors';
import type { Logger } from '../common/log';
import { COMPOSE_VERSION, NETWORK_LABEL, PROJECT_LABEL, VERSION_LABEL, VOLUME_LABEL } from './labels';
import type { ComposeProject } from './types';

async function exists(get: () => Promise<unknown>): Promise<boolean> {
  try {
    await get();
    return true;
  } catch (err) {
    if (BerthError.is(err, 'not_found')) return false;
    throw err;
  }
}

/** Makes the networks and volumes the given services use. */
export async function ensureResources(o: { api: ApiClient; project: ComposeProject; services: readonly string[]; logger: Logger; signal?: AbortSignal }): Promise<void> {
  const { api, project } = o;
  const s = o.signal ? { signal: o.signal } : {};
  const networks = new Set<string>();
  const volumes = new Set<string>();
  for (const name of o.services) {
    const svc = project.services[name];
    if (!svc) continue;
    for (const n of Object.keys(svc.networks)) networks.add(n);
    for (const v of svc.volumes) if (v.type === 'volume' && v.source) volumes.add(v.source);
  }
  for (const key of [...networks].sort()) {
    const net = project.networks[key];
    if (!net) throw new BerthError('invalid_argument', `network "${key}" is not declared`);
    if (await exists(() => api.call('networkInspect', { params: { name: net.name }, ...s }))) continue;
    if (net.external) throw new BerthError('not_found', `external network ${net.name} does not exist`);
    o.logger.info(`creating network ${net.name}`);
    await api.call('networkCreate', {
      body: { name: net.name, ...(net.internal ? { internal: true } : {}), labels: { ...net.labels, [PROJECT_LABEL]: project.name, [NETWORK_LABEL]: key, [VERSION_LABEL]: COMPOSE_VERSION } },
      ...s,
    });
  }
  for (const key of [...volumes].sort()) {
    const vol = project.volumes[key];
    if (!vol) throw new BerthError('invalid_argument', `volume "${key}" is not declared`);
    if (await exists(() => api.call('volumeInspect', { params: { name: vol.name }, ...s }))) continue;
    if (vol.external) throw new BerthError('not_found', `external volume ${vol.name} does not exist`);
    o.logger.info(`creating volume ${vol.name}`);
    await api.call('volumeCreate', { body: { name: vol.name, labels: { ...vol.labels, [PROJECT_LABEL]: project.name, [VOLUME_LABEL]: key, [VERSION_LABEL]: COMPOSE_VERSION } }, ...s });
  }
}
