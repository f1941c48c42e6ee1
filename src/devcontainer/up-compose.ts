/**
 * `up` for a compose-based configuration (`dockerComposeFile` + `service`),
 * on Berth's own Compose layer: the project named as the reference CLI
 * names it, `runServices` (or every service) up in dependency order, the
 * dev service's container made with the features image, the keep-alive
 * entrypoint (the service's own command after it unless overrideCommand),
 * containerEnv, mounts and the id labels; then the same setup and hooks
 * as image-based configurations. Like the reference, Berth adds no
 * workspace mount: the compose file mounts the workspace.
 */
import path from 'node:path';
import type { ContainerCreateRequest } from '../api/types/containers';
import type { ImageRecord } from '../api/types/images';
import { BerthError } from '../common/errors';
import { readEnvFile } from '../compose/env-file';
import { serviceImage } from '../compose/images';
import { loadProject } from '../compose/load';
import { isActive } from '../compose/plan';
import { devContainerProjectName } from '../compose/project-name';
import type { ComposeProject, ComposeService } from '../compose/types';
import { composeUp } from '../compose/up';
import { IMAGE_METADATA_LABEL, mergeConfiguration, type ImageMetadataEntry, type MergedDevContainerConfig } from '../config/image-metadata';
import type { ReadConfigurationResult } from '../config/read';
import type { ComposeConfig } from '../config/types';
import { keepAliveCommand, mountRequest, parseMountString } from './container-request';
import { dotfilesMount, fetchDotfiles } from './dotfiles';
import { hostFacts, unmetRequirements } from './host-requirements';
import { runInitializeCommand } from './initialize';
import { remoteUserOf, setUpContainer } from './setup-container';
import { existingMetadata, findDevContainer, prepareImage, setupFlags, withConfig, type PrepareImageOptions, type Source, type UpOptions, type UpResult } from './up';
import { updateRemoteUserUid } from './update-uid';

/** The compose files of a configuration, absolute (relative to the config file's folder). */
export function composeFilesOf(config: ComposeConfig, configFile: string): string[] {
  const list = typeof config.dockerComposeFile === 'string' ? [config.dockerComposeFile] : [...config.dockerComposeFile];
  return list.map((f) => path.resolve(path.dirname(configFile), f));
}

/** Loads the configuration's project under the name the reference CLI gives it. */
export async function loadDevContainerProject(config: ComposeConfig, configFile: string, workspaceFolder: string, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<ComposeProject> {
  const files = composeFilesOf(config, configFile);
  const dotEnv = await readEnvFile(path.join(workspaceFolder, '.env'), { optional: true, ...(signal ? { signal } : {}) });
  return loadProject({
    files,
    cwd: workspaceFolder,
    projectName: (c) => devContainerProjectName({ env: env['COMPOSE_PROJECT_NAME'], dotEnv: dotEnv['COMPOSE_PROJECT_NAME'], fileName: c.fileName, workspaceFolder, composeFiles: files }),
    env,
    ...(signal ? { signal } : {}),
  });
}

/** The dev service's own image (built or pulled), on which the features go: for `berth build`. */
export async function composeServiceSource(options: PrepareImageOptions, config: ComposeConfig, configFile: string, env: NodeJS.ProcessEnv): Promise<Source> {
  const project = await loadDevContainerProject(config, configFile, options.workspaceFolder, env, options.signal);
  const dev = project.services[config.service];
  if (!dev) throw new BerthError('invalid_argument', `service "${config.service}" is not in ${project.configFiles.join(', ')}`);
  const opts = { api: options.api, ...(options.pack ? { pack: options.pack } : {}), ...(options.buildNoCache ? { noCache: true } : {}), logger: options.logger, ...(options.signal ? { signal: options.signal } : {}) };
  return { kind: 'image', image: (await serviceImage(opts, project, dev)).reference };
}

interface DevServiceInput {
  readonly merged: MergedDevContainerConfig;
  readonly entries: readonly ImageMetadataEntry[];
  readonly idLabels: Readonly<Record<string, string>>;
  readonly extraMounts: readonly string[];
}

/** The dev service's create request: Compose's, plus what the dev container needs (as the reference's override file adds). */
export function devServiceRequest(service: ComposeService, request: ContainerCreateRequest, image: ImageRecord, d: DevServiceInput): ContainerCreateRequest {
  const m = d.merged;
  const override = m['overrideCommand'] === true;
  const img = image.config.config ?? {};
  const userEntrypoint = override ? [] : (service.entrypoint ?? img.Entrypoint ?? []);
  const userCommand = override ? [] : (service.command ?? (service.entrypoint ? [] : (img.Cmd ?? [])));
  const keepAlive = keepAliveCommand(m.entrypoints ?? []);
  const user = typeof m['containerUser'] === 'string' ? m['containerUser'] : undefined;
  return {
    ...request,
    entrypoint: [...keepAlive.entrypoint, ...keepAlive.cmd, ...userEntrypoint],
    cmd: userCommand,
    labels: { ...request.labels, ...d.idLabels, [IMAGE_METADATA_LABEL]: JSON.stringify(d.entries) },
    env: [...(request.env ?? []), ...Object.entries(m.containerEnv).map(([k, v]) => `${k}=${v}`)],
    ...(user ? { user } : {}),
    ...(m.init || request.init ? { init: true } : {}),
    ...(m.privileged || request.privileged ? { privileged: true } : {}),
    capAdd: [...(request.capAdd ?? []), ...(m.capAdd ?? [])],
    securityOpt: [...(request.securityOpt ?? []), ...(m.securityOpt ?? [])],
    mounts: [...(request.mounts ?? []), ...(m.mounts ?? []).map(mountRequest), ...d.extraMounts.map(parseMountString)],
    agent: true,
  };
}

export async function upCompose(options: UpOptions, read: ReadConfigurationResult, config: ComposeConfig, idLabels: Readonly<Record<string, string>>): Promise<UpResult> {
  const { api, logger, signal } = options;
  const s = signal ? { signal } : {};
  const initialize = await runInitializeCommand(config.initializeCommand, { workspaceFolder: options.workspaceFolder, env: options.env, logger, ...s });
  const project = await loadDevContainerProject(config, read.configFile, options.workspaceFolder, options.env, signal);
  const dev = project.services[config.service];
  if (!dev) throw new BerthError('invalid_argument', `service "${config.service}" is not in ${project.configFiles.join(', ')}`);
  const runServices = config.runServices?.length ? config.runServices : Object.values(project.services).filter((x) => isActive(x, project.profiles)).map((x) => x.name);
  const services = [...new Set([...runServices, config.service])];
  const imageOptions = { api, ...(options.pack ? { pack: options.pack } : {}), ...(options.buildNoCache ? { noCache: true } : {}), logger, ...s };

  let existing = await findDevContainer(api, idLabels, signal);
  if (existing && options.removeExistingContainer) {
    logger.info(`removing the existing container ${existing.name}`);
    await api.call('containerRemove', { params: { id: existing.id }, query: { force: 'true' }, ...s });
    existing = undefined;
  }
  let merged: MergedDevContainerConfig;
  let imageUser: string;
  if (existing) {
    ({ merged, imageUser } = await existingMetadata(api, existing, config, signal));
    await composeUp({ ...imageOptions, project, services, keep: [config.service] });
  } else {
    const base = await serviceImage(imageOptions, project, dev);
    const prepared = await prepareImage(options, config, read.configFile, { kind: 'image', image: base.reference });
    let image = prepared.image;
    imageUser = prepared.img.user;
    const entries = withConfig(prepared.img.entries, config);
    merged = mergeConfiguration(config, entries);
    if (merged['updateRemoteUserUID'] !== false && options.pack) {
      image = await updateRemoteUserUid({ api, image, imageUser, user: remoteUserOf(merged, imageUser), workspaceFolder: options.workspaceFolder, pack: options.pack, logger, ...s });
    }
    for (const unmet of unmetRequirements(merged['hostRequirements'], await hostFacts(options.workspaceFolder))) logger.warn(`hostRequirements: ${unmet}`);
    const record = await api.call('imageInspect', { params: { name: image }, ...s });
    const extraMounts = [...(options.mounts ?? []), ...(options.dotfiles ? [dotfilesMount(await fetchDotfiles(options.dotfiles.repository, options.env, logger, signal))] : [])];
    const dev2 = { merged, entries, idLabels, extraMounts };
    await composeUp({
      ...imageOptions,
      project,
      services,
      prepared: new Map([[config.service, { reference: image, image: record }]]),
      customize: (svc, request, img) => (svc.name === config.service ? devServiceRequest(svc, request, img, dev2) : request),
    });
  }
  const record = await findDevContainer(api, idLabels, signal);
  if (!record) throw new BerthError('internal', `the container of service ${config.service} has no id labels`);
  const remoteWorkspaceFolder = read.workspace.workspaceFolder ?? '/';
  const setup = await setUpContainer({
    api,
    record: await api.call('containerInspect', { params: { id: record.id }, ...s }),
    merged,
    imageUser,
    remoteWorkspaceFolder,
    ...setupFlags(options),
    logger,
    ...s,
  });
  return {
    outcome: 'success',
    containerId: record.id,
    composeProjectName: project.name,
    remoteUser: setup.remoteUser,
    remoteWorkspaceFolder,
    created: !existing,
    hooks: { ...(config.initializeCommand ? { initializeCommand: initialize } : {}), ...setup.hooks },
  };
}
