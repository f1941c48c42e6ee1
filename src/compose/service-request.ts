/**
 * A Compose service as the engine's container create request: its image,
 * command, environment, mounts (project volumes by their engine names),
 * networks with the service name as an alias, ports, and the
 * `com.docker.compose.*` labels, among them a hash of everything else so
 * that `up` knows when a container must be made again.
 */
import { createHash } from 'node:crypto';
import type { ContainerCreateRequest, HealthcheckConfig, MountRequest } from '../api/types/containers';
import type { PortBindingRequest } from '../api/types/networks';
import { BerthError } from '../common/errors';
import * as L from './labels';
import type { ComposeProject, ComposeService, Healthcheck, ServicePort } from './types';

export function containerName(project: ComposeProject, service: ComposeService, number = 1): string {
  return service.containerName ?? `${project.name}-${service.name}-${number}`;
}

function mount(project: ComposeProject, service: ComposeService, v: ComposeService['volumes'][number]): MountRequest {
  if (v.type === 'tmpfs') return { type: 'tmpfs', target: v.target, ...(v.tmpfsSize ? { options: [`size=${v.tmpfsSize}`] } : {}) };
  if (v.type === 'bind') return { type: 'bind', source: v.source ?? '', target: v.target, readOnly: v.readOnly, createSource: true };
  if (!v.source) return { type: 'volume', target: v.target, readOnly: v.readOnly, ...(v.noCopy ? { noCopy: true } : {}) };
  const vol = project.volumes[v.source];
  if (!vol) throw new BerthError('invalid_argument', `services.${service.name}: volume "${v.source}" is not declared`);
  return { type: 'volume', source: vol.name, target: v.target, readOnly: v.readOnly, ...(v.noCopy ? { noCopy: true } : {}) };
}

/** The service's healthcheck for the engine to run (durations in ns); an empty test leaves the image's. */
function healthcheck(h: Healthcheck): HealthcheckConfig {
  const ns = (ms: number): number => Math.round(ms * 1e6);
  if (h.test[0] === 'NONE') return { test: ['NONE'] };
  return { ...(h.test.length > 0 ? { test: h.test } : {}), interval: ns(h.intervalMs), timeout: ns(h.timeoutMs), startPeriod: ns(h.startPeriodMs), startInterval: ns(h.startIntervalMs), retries: h.retries };
}

function port(p: ServicePort): PortBindingRequest {
  const [a = '', b] = p.published.split('-');
  return { containerPort: p.target, protocol: p.protocol, hostIp: p.hostIp, hostPort: a ? Number(a) : 0, ...(b ? { hostPortEnd: Number(b) } : {}) };
}

function networking(project: ComposeProject, service: ComposeService): Pick<ContainerCreateRequest, 'networkMode' | 'networkAliases' | 'extraNetworks'> {
  const mode = service.networkMode;
  if (mode) {
    if (mode.startsWith('service:')) {
      const other = project.services[mode.slice('service:'.length)];
      if (!other) throw new BerthError('invalid_argument', `services.${service.name}.network_mode: no service "${mode.slice(8)}"`);
      return { networkMode: `container:${containerName(project, other)}` };
    }
    return { networkMode: mode };
  }
  const joined = Object.entries(service.networks).map(([key, n]) => {
    const net = project.networks[key];
    if (!net) throw new BerthError('invalid_argument', `services.${service.name}: network "${key}" is not declared`);
    return { name: net.name, aliases: [service.name, ...n.aliases] };
  });
  const [first, ...rest] = joined;
  if (!first) return {};
  return { networkMode: first.name, networkAliases: first.aliases, ...(rest.length > 0 ? { extraNetworks: rest } : {}) };
}

/** The hash Compose keeps in com.docker.compose.config-hash: here, of the request without that label. */
export function configHash(request: ContainerCreateRequest): string {
  const labels = { ...(request.labels ?? {}) };
  delete labels[L.CONFIG_HASH_LABEL];
  return createHash('sha256').update(JSON.stringify({ ...request, labels })).digest('hex');
}

export function withConfigHash(request: ContainerCreateRequest): ContainerCreateRequest {
  return { ...request, labels: { ...(request.labels ?? {}), [L.CONFIG_HASH_LABEL]: configHash(request) } };
}

/** The create request of a service's container; `image` is the image to run (pulled or built) and its id (a new id makes a new container). */
export function serviceRequest(project: ComposeProject, service: ComposeService, image: { readonly reference: string; readonly id: string }, number = 1): ContainerCreateRequest {
  const labels: Record<string, string> = {
    ...service.labels,
    [L.PROJECT_LABEL]: project.name,
    [L.SERVICE_LABEL]: service.name,
    [L.NUMBER_LABEL]: String(number),
    [L.ONEOFF_LABEL]: 'False',
    [L.WORKING_DIR_LABEL]: project.workingDir,
    [L.CONFIG_FILES_LABEL]: project.configFiles.join(','),
    [L.IMAGE_LABEL]: image.id,
    [L.VERSION_LABEL]: L.COMPOSE_VERSION,
    [L.DEPENDS_ON_LABEL]: Object.entries(service.dependsOn)
      .map(([name, d]) => `${name}:${d.condition}:false`)
      .join(','),
  };
  const ports = service.ports.map(port);
  const request: ContainerCreateRequest = {
    name: containerName(project, service, number),
    image: image.reference,
    ...(service.entrypoint ? { entrypoint: service.entrypoint } : {}),
    ...(service.command ? { cmd: service.command } : {}),
    env: Object.entries(service.environment).map(([k, v]) => `${k}=${v}`),
    ...(service.user ? { user: service.user } : {}),
    ...(service.workingDir ? { workingDir: service.workingDir } : {}),
    ...(service.hostname ? { hostname: service.hostname } : {}),
    labels,
    ...(service.tty ? { tty: true } : {}),
    ...(service.stdinOpen ? { openStdin: true } : {}),
    ...(service.init ? { init: true } : {}),
    ...(service.privileged ? { privileged: true } : {}),
    capAdd: service.capAdd,
    capDrop: service.capDrop,
    securityOpt: service.securityOpt,
    mounts: service.volumes.map((v) => mount(project, service, v)),
    ...networking(project, service),
    ...(service.extraHosts.length > 0 ? { extraHosts: service.extraHosts } : {}),
    ...(ports.length > 0 ? { ports } : {}),
    ...(service.expose.length > 0 ? { exposedPorts: service.expose.map((e) => (e.includes('/') ? e : `${e}/tcp`)) } : {}),
    ...(service.resources ? { resources: service.resources } : {}),
    ...(service.stopSignal ? { stopSignal: service.stopSignal } : {}),
    ...(service.stopGracePeriodS !== undefined ? { stopTimeout: service.stopGracePeriodS } : {}),
    ...(service.healthcheck ? { healthcheck: healthcheck(service.healthcheck) } : {}),
  };
  return withConfigHash(request);
}
