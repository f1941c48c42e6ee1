/**
 * Translation between Docker Engine API records and Berth's own: create
 * requests in, container and image inspections out. Pure functions.
 */
import type { ContainerCreateRequest, ContainerRecord, DeviceMapping } from '../../../api/types/containers';
import type { ImageRecord, PullProgress } from '../../../api/types/images';
import { BerthError } from '../../../common/errors';
import { dockerHealthcheck, dockerHealthState, healthcheckFromDocker, statusText, type DockerHealthcheck } from './health-translate';
import { dockerMountPoint, dockerMounts, type DockerMount } from './mounts';
import { dockerNetworkSettings, dockerSummaryPorts, networkFieldsFromDocker, type DockerNetworkingBody } from './network-translate';

export interface DockerCreateBody extends DockerNetworkingBody {
  Image?: string;
  Cmd?: string[] | string | null;
  Entrypoint?: string[] | string | null;
  Env?: string[] | null;
  User?: string;
  WorkingDir?: string;
  Hostname?: string;
  Labels?: Record<string, string> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  StopSignal?: string;
  StopTimeout?: number;
  Volumes?: Record<string, object> | null;
  Healthcheck?: DockerHealthcheck | null;
  HostConfig?: {
    Binds?: string[] | null;
    Mounts?: DockerMount[] | null;
    Tmpfs?: Record<string, string> | null;
    AutoRemove?: boolean;
    Privileged?: boolean;
    CapAdd?: string[] | null;
    CapDrop?: string[] | null;
    SecurityOpt?: string[] | null;
    Init?: boolean | null;
    Memory?: number;
    NanoCpus?: number;
    PidsLimit?: number | null;
    NetworkMode?: string;
    ReadonlyRootfs?: boolean;
    Devices?: { PathOnHost?: string; PathInContainer?: string; CgroupPermissions?: string }[] | null;
    DeviceRequests?: { Driver?: string; Count?: number; Capabilities?: string[][] | null }[] | null;
  } & DockerNetworkingBody['HostConfig'];
}

const asArray = (v: string[] | string | null | undefined): string[] | null | undefined => (typeof v === 'string' ? [v] : v);

export function createRequestFromDocker(body: DockerCreateBody, name: string | undefined): ContainerCreateRequest {
  if (!body.Image) throw new BerthError('invalid_argument', 'config.Image is required');
  const hc = body.HostConfig ?? {};
  const mounts = dockerMounts(hc, body.Volumes);
  const entrypoint = asArray(body.Entrypoint);
  const cmd = asArray(body.Cmd);
  const healthcheck = healthcheckFromDocker(body.Healthcheck);
  const devices = devicesFromDocker(hc);
  const resources = {
    ...(hc.Memory ? { memory: hc.Memory } : {}),
    ...(hc.NanoCpus ? { nanoCpus: hc.NanoCpus } : {}),
    ...(hc.PidsLimit ? { pidsLimit: hc.PidsLimit } : {}),
  };
  return {
    image: body.Image,
    ...(name ? { name } : {}),
    ...(entrypoint !== undefined && !(Array.isArray(entrypoint) && entrypoint.length === 0) ? { entrypoint } : {}),
    ...(cmd !== undefined && cmd !== null && cmd.length > 0 ? { cmd } : {}),
    ...(body.Env ? { env: body.Env } : {}),
    ...(body.User ? { user: body.User } : {}),
    ...(body.WorkingDir ? { workingDir: body.WorkingDir } : {}),
    ...(body.Hostname ? { hostname: body.Hostname } : {}),
    ...(body.Labels ? { labels: body.Labels } : {}),
    tty: body.Tty === true,
    openStdin: body.OpenStdin === true,
    stdinOnce: body.StdinOnce === true,
    init: hc.Init === true,
    privileged: hc.Privileged === true,
    capAdd: hc.CapAdd ?? [],
    capDrop: hc.CapDrop ?? [],
    securityOpt: hc.SecurityOpt ?? [],
    readonlyRootfs: hc.ReadonlyRootfs === true,
    mounts,
    resources,
    ...networkFieldsFromDocker(body),
    autoRemove: hc.AutoRemove === true,
    ...(body.StopSignal ? { stopSignal: body.StopSignal } : {}),
    ...(body.StopTimeout !== undefined ? { stopTimeout: body.StopTimeout } : {}),
    ...(healthcheck ? { healthcheck } : {}),
    ...(devices.length > 0 ? { devices } : {}),
  };
}

/** HostConfig.Devices; DeviceRequests (`--gpus`) are refused as dockerd refuses them without a GPU driver. */
function devicesFromDocker(hc: NonNullable<DockerCreateBody['HostConfig']>): DeviceMapping[] {
  const request = hc.DeviceRequests?.[0];
  if (request) {
    const caps = JSON.stringify(request.Capabilities ?? []).replace(/"/g, '').replace(/,/g, ' ');
    throw new BerthError('failed_precondition', `could not select device driver "${request.Driver ?? ''}" with capabilities: ${caps} (Berth has no GPU device driver yet)`);
  }
  return (hc.Devices ?? []).map((d) => ({
    pathOnHost: d.PathOnHost ?? '',
    ...(d.PathInContainer ? { pathInContainer: d.PathInContainer } : {}),
    ...(d.CgroupPermissions ? { permissions: d.CgroupPermissions } : {}),
  }));
}

export function containerSummary(c: ContainerRecord): Record<string, unknown> {
  return {
    Id: c.id,
    Names: [`/${c.name}`],
    Image: c.imageRef,
    ImageID: c.imageId,
    Command: [c.path, ...c.args].join(' '),
    Created: Math.floor(Date.parse(c.created) / 1000),
    State: c.state.status,
    Status: statusText(c),
    Ports: dockerSummaryPorts(c),
    Labels: c.request.labels ?? {},
    Mounts: (c.mounts ?? []).map(dockerMountPoint),
    HostConfig: { NetworkMode: c.request.networkMode ?? 'bridge' },
    NetworkSettings: { Networks: (dockerNetworkSettings(c)['Networks'] as Record<string, unknown> | undefined) ?? {} },
  };
}

function portBindings(ports: NonNullable<ContainerRecord['request']['ports']>): Record<string, { HostIp: string; HostPort: string }[]> {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of ports) {
    const key = `${p.containerPort}/${p.protocol}`;
    const host = p.hostPort === 0 ? '' : p.hostPortEnd ? `${p.hostPort}-${p.hostPortEnd}` : String(p.hostPort);
    out[key] = [...(out[key] ?? []), { HostIp: p.hostIp, HostPort: host }];
  }
  return out;
}

export function containerInspect(c: ContainerRecord): Record<string, unknown> {
  const r = c.request;
  return {
    Id: c.id,
    Created: c.created,
    Path: c.path,
    Args: c.args,
    State: {
      Status: c.state.status,
      Running: c.state.status === 'running',
      Paused: false,
      Restarting: false,
      OOMKilled: c.state.oomKilled,
      Dead: c.state.status === 'dead',
      Pid: c.state.pid,
      ExitCode: c.state.exitCode,
      Error: c.state.error,
      StartedAt: c.state.startedAt || '0001-01-01T00:00:00Z',
      FinishedAt: c.state.finishedAt || '0001-01-01T00:00:00Z',
      ...dockerHealthState(c.state.health),
    },
    Image: c.imageId,
    Name: `/${c.name}`,
    RestartCount: c.restartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    LogPath: c.logPath,
    HostConfig: {
      AutoRemove: r.autoRemove === true,
      Privileged: r.privileged === true,
      CapAdd: r.capAdd ?? null,
      CapDrop: r.capDrop ?? null,
      SecurityOpt: r.securityOpt ?? null,
      Init: r.init === true,
      NetworkMode: r.networkMode ?? 'bridge',
      PortBindings: portBindings(r.ports ?? []),
      PublishAllPorts: r.publishAll === true,
      Memory: r.resources?.memory ?? 0,
      NanoCpus: r.resources?.nanoCpus ?? 0,
      PidsLimit: r.resources?.pidsLimit ?? null,
      Devices: (r.devices ?? []).map((d) => ({ PathOnHost: d.pathOnHost, PathInContainer: d.pathInContainer ?? d.pathOnHost, CgroupPermissions: d.permissions ?? 'rwm' })),
      Binds: (r.mounts ?? []).filter((m) => m.type !== 'tmpfs' && m.source).map((m) => `${m.source ?? ''}:${m.target}${m.mode ? `:${m.mode}` : m.readOnly ? ':ro' : ''}`),
    },
    Mounts: c.mounts ? c.mounts.map(dockerMountPoint) : (r.mounts ?? []).map((m) => ({ Type: m.type, Source: m.source ?? '', Destination: m.target, RW: !m.readOnly })),
    Config: {
      Hostname: r.hostname ?? c.id.slice(0, 12),
      User: r.user ?? '',
      Env: r.env ?? [],
      Cmd: r.cmd ?? null,
      Entrypoint: r.entrypoint ?? null,
      Image: c.imageRef,
      WorkingDir: r.workingDir ?? '',
      Labels: r.labels ?? {},
      Tty: r.tty === true,
      OpenStdin: r.openStdin === true,
      AttachStdin: false,
      AttachStdout: true,
      AttachStderr: true,
      ...dockerHealthcheck(r.healthcheck),
    },
    NetworkSettings: dockerNetworkSettings(c),
  };
}

export function imageSummary(i: ImageRecord): Record<string, unknown> {
  return {
    Id: i.id,
    ParentId: '',
    RepoTags: i.repoTags,
    RepoDigests: i.repoDigests,
    Created: Math.floor(Date.parse(i.config.created ?? i.storedAt) / 1000),
    Size: i.size,
    SharedSize: -1,
    VirtualSize: i.size,
    Labels: i.config.config?.Labels ?? {},
    Containers: -1,
  };
}

export function imageInspect(i: ImageRecord): Record<string, unknown> {
  return {
    Id: i.id,
    RepoTags: i.repoTags,
    RepoDigests: i.repoDigests,
    Created: i.config.created ?? i.storedAt,
    Architecture: i.platform.architecture,
    Os: i.platform.os,
    ...(i.platform.variant ? { Variant: i.platform.variant } : {}),
    Size: i.size,
    Config: { ...i.config.config, Labels: i.config.config?.Labels ?? null },
    RootFS: { Type: 'layers', Layers: i.layers.map((l) => l.diffId) },
    Metadata: { LastTagTime: i.storedAt },
  };
}

/** A pull progress message in the Docker JSON stream format. */
export function dockerProgress(p: PullProgress): Record<string, unknown> {
  const detail = p.current !== undefined && p.total !== undefined ? { current: p.current, total: p.total } : {};
  return { status: p.status, ...(p.id ? { id: p.id } : {}), progressDetail: detail };
}
