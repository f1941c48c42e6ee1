/**
 * `up`: from a workspace folder to a ready dev container. Finds the
 * container by its id labels (starting it when stopped), or pulls the
 * image and creates one, then runs the lifecycle hooks. Compose-based
 * configurations go to up-compose.ts.
 */
import path from 'node:path';
import type { ApiClient } from '../api/client';
import { errorFromResponse } from '../api/http-errors';
import type { PullProgress } from '../api/types/images';
import type { ContainerRecord } from '../api/types/containers';
import { BerthError } from '../common/errors';
import type { Logger } from '../common/log';
import { configToMetadataEntry, IMAGE_METADATA_LABEL, mergeConfiguration, parseImageMetadataLabel, type ImageMetadataEntry, type MergedDevContainerConfig } from '../config/image-metadata';
import { readConfiguration, type ReadConfigurationResult } from '../config/read';
import { substituteDevcontainerId } from '../config/substitute';
import { configKind, isComposeConfig, type DevContainerConfig } from '../config/types';
import { containerRequest } from './container-request';
import { hostFacts, unmetRequirements } from './host-requirements';
import { runInitializeCommand } from './initialize';
import { buildDevContainerImage, type ContextPacker } from './build-image';
import type { FeatureValue } from './features/feature-json';
import { installFeatures } from './features/install';
import { readLock, writeLock } from './features/lockfile';
import { installOrder } from './features/order';
import { resolveFeatures } from './features/resolve';
import { dotfilesMount, fetchDotfiles, type DotfilesOptions } from './dotfiles';
import { execIn } from './lifecycle';
import { updateRemoteUserUid } from './update-uid';
import { remoteUserOf, setUpContainer, type SetupOptions } from './setup-container';
import { upCompose } from './up-compose';

export const LOCAL_FOLDER_LABEL = 'devcontainer.local_folder';
export const CONFIG_FILE_LABEL = 'devcontainer.config_file';

export interface UpOptions {
  readonly api: ApiClient;
  readonly workspaceFolder: string;
  readonly configFile?: string;
  /** Replaces the default id labels (local folder and config file). */
  readonly idLabels?: Readonly<Record<string, string>>;
  readonly removeExistingContainer?: boolean;
  readonly skipPostCreate?: boolean;
  readonly skipPostAttach?: boolean;
  /** Return once the `waitFor` hook (default updateContentCommand) has run. */
  readonly skipNonBlocking?: boolean;
  readonly prebuild?: boolean;
  /** Clone in Volume: this volume is mounted at /workspaces (unless the configuration names its own workspaceMount). */
  readonly workspaceVolume?: string;
  /** Give the workspace folder to the remote user before the hooks run (a fresh clone is root's). */
  readonly chownWorkspace?: boolean;
  /** Packs a Dockerfile's build context (the CLI's, honouring .dockerignore). */
  readonly pack?: ContextPacker;
  /** Features to add to the configuration's (`--additional-features`). */
  readonly additionalFeatures?: Readonly<Record<string, FeatureValue>>;
  /** Build every Dockerfile step again. */
  readonly buildNoCache?: boolean;
  /** The user's dotfiles repository, installed in new containers. */
  readonly dotfiles?: DotfilesOptions;
  /** Extra mounts in Docker --mount syntax. */
  readonly mounts?: readonly string[];
  /** Extra remote env, K=V. */
  readonly remoteEnv?: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly logger: Logger;
  readonly onPullProgress?: (p: PullProgress) => void;
  readonly signal?: AbortSignal;
}

/** What preparing the image needs. */
export type PrepareImageOptions = Pick<UpOptions, 'api' | 'workspaceFolder' | 'pack' | 'buildNoCache' | 'additionalFeatures' | 'logger' | 'onPullProgress' | 'signal'>;

export interface UpResult {
  readonly outcome: 'success';
  readonly containerId: string;
  readonly remoteUser: string;
  readonly remoteWorkspaceFolder: string;
  readonly created: boolean;
  readonly hooks: Readonly<Record<string, 'ran' | 'skipped'>>;
  /** Compose-based configurations: the project's name (as the reference CLI reports it). */
  readonly composeProjectName?: string;
}

/** What of `up`'s options the setup of the container takes (hooks to skip, prebuild, dotfiles, remote env). */
export function setupFlags(options: UpOptions): Pick<SetupOptions, 'remoteEnv' | 'skipPostCreate' | 'skipPostAttach' | 'skipNonBlocking' | 'prebuild' | 'dotfiles'> {
  return {
    ...(options.remoteEnv ? { remoteEnv: options.remoteEnv } : {}),
    ...(options.skipPostCreate ? { skipPostCreate: true } : {}),
    ...(options.skipPostAttach ? { skipPostAttach: true } : {}),
    ...(options.skipNonBlocking ? { skipNonBlocking: true } : {}),
    ...(options.prebuild ? { prebuild: true } : {}),
    ...(options.dotfiles ? { dotfiles: options.dotfiles } : {}),
  };
}

/**
 * The merged configuration and image user of a dev container that exists: its own label holds the
 * image's entries and the configuration's as it was at create (the current one stands in for it);
 * the image it was made from is never pulled again.
 */
export async function existingMetadata(api: ApiClient, existing: ContainerRecord, config: DevContainerConfig, signal?: AbortSignal): Promise<{ merged: MergedDevContainerConfig; imageUser: string }> {
  const entries = parseImageMetadataLabel(existing.request.labels?.[IMAGE_METADATA_LABEL]);
  const made = await api.call('imageInspect', { params: { name: existing.imageId }, ...(signal ? { signal } : {}) }).catch(() => undefined);
  return { merged: mergeConfiguration(config, withConfig(entries.slice(0, -1), config)), imageUser: made?.config.config?.User || 'root' };
}

export function defaultIdLabels(workspaceFolder: string, configFile: string): Record<string, string> {
  return { [LOCAL_FOLDER_LABEL]: workspaceFolder, [CONFIG_FILE_LABEL]: configFile };
}

/** The newest container carrying all the id labels, running or not. */
export async function findDevContainer(api: ApiClient, idLabels: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<ContainerRecord | undefined> {
  const filters = JSON.stringify({ label: Object.entries(idLabels).map(([k, v]) => `${k}=${v}`) });
  const list = await api.call('containerList', { query: { all: 'true', filters }, ...(signal ? { signal } : {}) });
  return [...list].sort((a, b) => b.created.localeCompare(a.created))[0];
}

export async function ensureImage(options: Pick<PrepareImageOptions, 'api' | 'logger' | 'onPullProgress' | 'signal'>, reference: string): Promise<{ user: string; entries: ImageMetadataEntry[] }> {
  const { api, signal } = options;
  const s = signal ? { signal } : {};
  let image;
  try {
    image = await api.call('imageInspect', { params: { name: reference }, ...s });
  } catch (err) {
    if (!BerthError.is(err, 'not_found')) throw err;
    options.logger.info(`pulling ${reference}`);
    for await (const m of api.stream('imagePull', { body: { reference }, ...s })) {
      if ('progress' in m) options.onPullProgress?.(m.progress);
      else if ('error' in m) throw errorFromResponse(500, m.error);
    }
    image = await api.call('imageInspect', { params: { name: reference }, ...s });
  }
  const config = image.config.config ?? {};
  return { user: config.User || 'root', entries: parseImageMetadataLabel(config.Labels?.[IMAGE_METADATA_LABEL]) };
}

/** The image's (or features') entries, then the configuration's own; empty entries take no part. */
export function withConfig(entries: readonly ImageMetadataEntry[], config: DevContainerConfig): ImageMetadataEntry[] {
  return [...entries, configToMetadataEntry(config)].filter((e) => Object.keys(e).length > 0);
}

export type Source = { readonly kind: 'image'; readonly image: string } | { readonly kind: 'dockerfile' };

export function sourceOf(config: DevContainerConfig): Source {
  const kind = configKind(config);
  if (kind === 'compose') throw new BerthError('invalid_argument', "a compose-based configuration's image is its service's: see up-compose.ts");
  if (kind === 'dockerfile') return { kind };
  const image = 'image' in config ? config.image : undefined;
  if (kind !== 'image' || !image) throw new BerthError('invalid_argument', 'the configuration names no image, Dockerfile or compose file');
  return { kind, image };
}

/** The dev container's image: pulled, or built from its Dockerfile, then with its features installed. */
export async function prepareImage(
  options: PrepareImageOptions,
  config: DevContainerConfig,
  configFile: string,
  source: Source = sourceOf(config),
): Promise<{ image: string; img: { user: string; entries: ImageMetadataEntry[] } }> {
  let image: string;
  if (source.kind === 'image') image = source.image;
  else {
    if (!options.pack) throw new BerthError('internal', 'a Dockerfile build needs a context packer');
    const built = await buildDevContainerImage({
      api: options.api,
      config,
      configFile,
      workspaceFolder: options.workspaceFolder,
      pack: options.pack,
      ...(options.buildNoCache ? { noCache: true } : {}),
      logger: options.logger,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    options.logger.info(`image ${built.image}: ${built.cached} of ${built.steps} steps from the cache, ${built.layersWritten} layers written`);
    image = built.image;
  }
  let img = await ensureImage(options, image);
  const features = { ...(config.features ?? {}), ...(options.additionalFeatures ?? {}) };
  if (Object.keys(features).length > 0) {
    image = await withFeatures(options, config, configFile, image, img, features);
    img = await ensureImage(options, image);
  }
  return { image, img };
}

/** The image with the features installed on top of `base` (cached layers when nothing changed). */
async function withFeatures(
  options: PrepareImageOptions,
  config: DevContainerConfig,
  configFile: string,
  base: string,
  img: { user: string; entries: ImageMetadataEntry[] },
  features: Readonly<Record<string, FeatureValue>>,
): Promise<string> {
  if (!options.pack) throw new BerthError('internal', 'installing features needs a context packer');
  const s = options.signal ? { signal: options.signal } : {};
  const resolved = await resolveFeatures(features, { api: options.api, configDir: path.dirname(configFile), locked: await readLock(configFile), ...s });
  const ordered = installOrder(resolved, config.overrideFeatureInstallOrder ?? []);
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const lastOf = (key: 'remoteUser' | 'containerUser'): string | undefined => str(config[key]) ?? img.entries.map((e) => str(e[key])).filter(Boolean).at(-1);
  const containerUser = lastOf('containerUser') ?? (img.user || 'root');
  const built = await installFeatures({
    api: options.api,
    baseImage: base,
    imageUser: img.user,
    remoteUser: lastOf('remoteUser') ?? containerUser,
    containerUser,
    baseEntries: img.entries,
    features: ordered,
    pack: options.pack,
    ...(options.buildNoCache ? { noCache: true } : {}),
    logger: options.logger,
    ...s,
  });
  options.logger.info(`features image ${built.image}: ${built.cached} of ${built.steps} steps from the cache, ${built.layersWritten} layers written`);
  await writeLock(configFile, resolved);
  return built.image;
}

export async function up(options: UpOptions): Promise<UpResult> {
  const { api, logger, signal } = options;
  const s = signal ? { signal } : {};
  const read: ReadConfigurationResult = await readConfiguration({
    workspaceFolder: options.workspaceFolder,
    ...(options.configFile ? { configFile: options.configFile } : {}),
    env: options.env,
    logger,
    ...s,
  });
  const idLabels = options.idLabels ?? defaultIdLabels(options.workspaceFolder, read.configFile);
  const config = substituteDevcontainerId(read.config, idLabels);
  if (isComposeConfig(config)) return upCompose(options, read, config, idLabels);
  const source = sourceOf(config);
  const initialize = await runInitializeCommand(config.initializeCommand, { workspaceFolder: options.workspaceFolder, env: options.env, logger, ...s });
  let existing = await findDevContainer(api, idLabels, signal);
  if (existing && options.removeExistingContainer) {
    logger.info(`removing the existing container ${existing.name}`);
    await api.call('containerRemove', { params: { id: existing.id }, query: { force: 'true' }, ...s });
    existing = undefined;
  }
  let record: ContainerRecord;
  let merged: MergedDevContainerConfig;
  let imageUser: string;
  if (existing) {
    ({ merged, imageUser } = await existingMetadata(api, existing, config, signal));
    if (existing.state.status !== 'running') {
      logger.info(`starting the existing container ${existing.name}`);
      await api.call('containerStart', { params: { id: existing.id }, ...s });
    }
    record = await api.call('containerInspect', { params: { id: existing.id }, ...s });
  } else {
    const prepared = await prepareImage(options, config, read.configFile, source);
    const img = prepared.img;
    let image = prepared.image;
    const workspaceMount =
      options.workspaceVolume && !('workspaceMount' in read.config) ? `type=volume,source=${options.workspaceVolume},target=/workspaces` : read.workspace.workspaceMount;
    imageUser = img.user;
    const entries = withConfig(img.entries, config);
    merged = mergeConfiguration(config, entries);
    if (merged['updateRemoteUserUID'] !== false && options.pack) {
      image = await updateRemoteUserUid({ api, image, imageUser: img.user, user: remoteUserOf(merged, img.user), workspaceFolder: options.workspaceFolder, pack: options.pack, logger, ...s });
    }
    for (const unmet of unmetRequirements(merged['hostRequirements'], await hostFacts(options.workspaceFolder))) logger.warn(`hostRequirements: ${unmet}`);
    const request = containerRequest({
      image,
      merged,
      ...(workspaceMount ? { workspaceMount } : {}),
      idLabels,
      metadata: entries,
      overrideCommand: entries.map((e) => e.overrideCommand).filter((v) => v !== undefined).at(-1) ?? true,
      extraMounts: [...(options.mounts ?? []), ...(options.dotfiles ? [dotfilesMount(await fetchDotfiles(options.dotfiles.repository, options.env, logger, signal))] : [])],
      logger,
    });
    const { id } = await api.call('containerCreate', { body: request, ...s });
    await api.call('containerStart', { params: { id }, ...s });
    record = await api.call('containerInspect', { params: { id }, ...s });
    logger.info(`created and started ${record.name}`);
  }
  const remoteWorkspaceFolder = read.workspace.workspaceFolder ?? '/';
  const user = remoteUserOf(merged, imageUser);
  if (options.chownWorkspace && user !== 'root' && user !== '0') {
    const r = await execIn({ api, containerId: record.id, user: 'root', workingDir: '/', env: [], logger, ...s }, ['/bin/sh', '-c', 'chown -R "$(id -u "$1"):$(id -g "$1")" "$2"', '-', user, remoteWorkspaceFolder], { quiet: true });
    if (r.exitCode !== 0) throw new BerthError('failed_precondition', `cannot give ${remoteWorkspaceFolder} to ${user}: ${r.output.trim()}`);
  }
  const setup = await setUpContainer({
    api,
    record,
    merged,
    imageUser,
    remoteWorkspaceFolder,
    ...setupFlags(options),
    fresh: !existing,
    logger,
    ...s,
  });
  return {
    outcome: 'success',
    containerId: record.id,
    remoteUser: setup.remoteUser,
    remoteWorkspaceFolder,
    created: !existing,
    hooks: { ...(config.initializeCommand ? { initializeCommand: initialize } : {}), ...setup.hooks },
  };
}
