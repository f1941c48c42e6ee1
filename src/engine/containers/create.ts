/**
 * create: the rootfs from a new writable snapshot on the image's layers, the
 * OCI bundle (config.json with Docker's defaults), and the record.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ContainerCreateRequest, ContainerRecord, ContainerState } from '../../api/types/containers';
import { BerthError } from '../../common/errors';
import { AGENT_MOUNT_POINT } from '../agent/bundle';
import { capabilitiesFromMask } from '../oci/capabilities';
import { resolveDevices } from '../oci/devices';
import { listHostDevices } from '../oci/spec-host';
import { buildRuntimeSpec, type OciMount } from '../oci/spec';
import { resolveUser } from '../oci/user';
import { mountAll, unmount } from '../snapshots/mount';
import type { NetworkPlan } from '../network/container-networking';
import { ContainerMounts, type ResolvedMounts } from '../volumes/container-mounts';
import { effectiveHealthcheck } from './health-config';
import { containerPaths, eventAttributes, nowIso, snapshotKey, type ManagerContext } from './context';

/** The engine's own bounding set: a privileged container cannot get more than that here. */
async function engineCapabilities(): Promise<string[]> {
  const status = await readFile('/proc/self/status', 'utf8');
  return capabilitiesFromMask(/^CapBnd:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0');
}

const INITIAL: ContainerState = { status: 'created', pid: 0, exitCode: 0, oomKilled: false, error: '', startedAt: '', finishedAt: '' };

/** The agent bundle, read-only at /.berth. */
async function agentMount(ctx: ManagerContext, options: { signal?: AbortSignal }): Promise<OciMount> {
  if (!ctx.options.agentBundle) throw new BerthError('failed_precondition', 'this engine cannot inject the Berth agent');
  return { destination: AGENT_MOUNT_POINT, type: 'bind', source: await ctx.options.agentBundle(options), options: ['rbind', 'ro', 'nosuid', 'nodev'] };
}

/** The engine's own hard limit of open files (a container cannot get more). */
async function nofileHardLimit(): Promise<number | undefined> {
  const limits = await readFile('/proc/self/limits', 'utf8').catch(() => '');
  const m = /^Max open files\s+\S+\s+(\d+)/m.exec(limits);
  return m ? Number(m[1]) : undefined;
}

export async function createContainer(ctx: ManagerContext, request: ContainerCreateRequest, options: { signal?: AbortSignal } = {}): Promise<ContainerRecord> {
  const image = await ctx.options.resolveImage(request.image, options);
  const name = ctx.store.reserveName(request.name);
  const id = randomBytes(32).toString('hex');
  const paths = containerPaths(ctx.options, id);
  let prepared = false;
  let resolved: ResolvedMounts | undefined;
  let network: NetworkPlan | undefined;
  try {
    if (Buffer.byteLength(paths.attachSocket) > 107) throw new BerthError('invalid_argument', `exec root ${ctx.options.execRoot} is too long for unix sockets`);
    await mkdir(paths.rootfs, { recursive: true, mode: 0o700 });
    const mounts = await ctx.options.snapshotter.prepare(snapshotKey(id), image.snapshotParent, { labels: { 'berth.container': id }, ...options });
    prepared = true;
    await mountAll(mounts, paths.rootfs, options);
    const resolver = ctx.options.mounts ?? new ContainerMounts(undefined, ctx.options.logger);
    resolved = await resolver.resolve({ containerId: id, request, imageVolumes: image.config.Volumes, rootfs: paths.rootfs, ...options });
    const user = await resolveUser(paths.rootfs, request.user ?? image.config.User);
    const hostname = request.hostname ?? id.slice(0, 12);
    // As Docker does, the container carries the image's labels under its own.
    const labels = image.config.Labels && Object.keys(image.config.Labels).length > 0 ? { labels: { ...image.config.Labels, ...request.labels } } : {};
    const healthcheck = effectiveHealthcheck(request.healthcheck, image.config.Healthcheck);
    const stored: ContainerCreateRequest = { ...request, ...labels, stopSignal: request.stopSignal ?? image.config.StopSignal ?? 'SIGTERM', ...(healthcheck ? { healthcheck } : {}) };
    const nofileLimit = await nofileHardLimit();
    network = await ctx.options.network?.plan({ id, name, dir: paths.dir, request: stored, hostname, ...(image.config.ExposedPorts ? { imageExposedPorts: image.config.ExposedPorts } : {}) }, options);
    const spec = buildRuntimeSpec({
      id,
      request: stored,
      image: image.config,
      rootfs: paths.rootfs,
      user,
      hostname,
      cgroupsPath: `/berth/${id}`,
      mounts: [...resolved.oci, ...(request.agent ? [await agentMount(ctx, options)] : [])],
      ...(network ? { netns: network.netns, etcFiles: network.etcFiles } : request.networkMode === 'host' ? { netns: 'host' } : {}),
      ...(nofileLimit ? { nofileLimit } : {}),
      ...(ctx.options.initBinary ? { initBinary: ctx.options.initBinary } : {}),
      availableCapabilities: await engineCapabilities(),
      // Docker: a privileged container sees every host device; others the ones asked for.
      ...(request.privileged ? { hostDevices: await listHostDevices(options) } : { devices: await resolveDevices(request.devices ?? [], options) }),
    });
    await writeFile(path.join(paths.bundle, 'config.json'), JSON.stringify(spec));
    const record: ContainerRecord = {
      id,
      name,
      imageId: image.id,
      imageRef: request.image,
      created: nowIso(),
      request: stored,
      path: spec.process.args[0] ?? '',
      args: spec.process.args.slice(1),
      state: INITIAL,
      bundle: paths.bundle,
      logPath: paths.log,
      restartCount: 0,
      runtime: ctx.options.runtime.name,
      mounts: resolved.points,
      ...(network ? { network: network.network } : {}),
    };
    await ctx.store.save(record);
    resolved.done();
    ctx.options.events.emit({ type: 'container', action: 'create', id, attributes: eventAttributes(record) });
    return record;
  } catch (err) {
    ctx.store.releaseName(name);
    await resolved?.rollback();
    if (network) await ctx.options.network?.release(id, network.network).catch(() => undefined);
    await unmount(paths.rootfs).catch(() => undefined);
    if (prepared) await ctx.options.snapshotter.remove(snapshotKey(id)).catch(() => undefined);
    await rm(paths.dir, { recursive: true, force: true });
    throw err;
  }
}
