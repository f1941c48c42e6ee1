/**
 * `read-configuration --include-merged-configuration`: the configuration
 * merged with the metadata it runs with, as the reference does. A dev
 * container that exists answers from its own devcontainer.metadata label;
 * otherwise the base image's label (the image, or the Dockerfile target
 * stage's FROM; pulled when missing; for compose, the dev service's image or
 * its Dockerfile's FROM), then the features' entries in install order, then
 * the configuration's own entry.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ApiClient } from '../api/client';
import { BerthError } from '../common/errors';
import type { Logger } from '../common/log';
import { configToMetadataEntry, IMAGE_METADATA_LABEL, mergeConfiguration, parseImageMetadataLabel, type ImageMetadataEntry, type MergedDevContainerConfig } from '../config/image-metadata';
import type { ReadConfigurationResult } from '../config/read';
import { configKind, isComposeConfig, type DevContainerConfig } from '../config/types';
import { dockerfileBaseImage } from './dockerfile-base';
import { metadataEntry } from './features/feature-json';
import { readLock } from './features/lockfile';
import { installOrder } from './features/order';
import { resolveFeatures } from './features/resolve';
import { defaultIdLabels, ensureImage, findDevContainer, withConfig } from './up';
import { loadDevContainerProject } from './up-compose';

export interface MergedOptions {
  readonly api: ApiClient;
  readonly workspaceFolder: string;
  readonly idLabels?: Readonly<Record<string, string>>;
  /** For compose files' interpolation and project name. */
  readonly env?: NodeJS.ProcessEnv;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
}

export async function mergedConfiguration(read: ReadConfigurationResult, o: MergedOptions): Promise<MergedDevContainerConfig> {
  const config = read.config;
  const existing = await findDevContainer(o.api, o.idLabels ?? defaultIdLabels(o.workspaceFolder, read.configFile), o.signal);
  if (existing) {
    // Its label ends with the configuration's entry as it was at create: the current one stands in for it.
    const entries = parseImageMetadataLabel(existing.request.labels?.[IMAGE_METADATA_LABEL]);
    return mergeConfiguration(config, withConfig(entries.slice(0, -1), config));
  }
  const base = await baseImage(read, o);
  const entries: ImageMetadataEntry[] = base === undefined ? [] : (await ensureImage(o, base)).entries;
  if (config.features && Object.keys(config.features).length > 0) {
    const resolved = await resolveFeatures(config.features, { api: o.api, configDir: path.dirname(read.configFile), locked: await readLock(read.configFile), ...(o.signal ? { signal: o.signal } : {}) });
    for (const f of installOrder(resolved, config.overrideFeatureInstallOrder ?? [])) entries.push(metadataEntry(f.json, f.userId));
  }
  return mergeConfiguration(config, [...entries, configToMetadataEntry(config)].filter((e) => Object.keys(e).length > 0));
}

/** The image the dev container's image starts from (undefined: none, as with `FROM scratch`). */
async function baseImage(read: ReadConfigurationResult, o: MergedOptions): Promise<string | undefined> {
  const config = read.config;
  const kind = configKind(config);
  if (isComposeConfig(config)) {
    const project = await loadDevContainerProject(config, read.configFile, o.workspaceFolder, o.env ?? {}, o.signal);
    const service = project.services[config.service];
    if (!service) throw new BerthError('invalid_argument', `service "${config.service}" is not in ${project.configFiles.join(', ')}`);
    if (!service.build) return service.image;
    const file = path.resolve(service.build.context, service.build.dockerfile);
    return dockerfileBaseImage(await readFile(file, 'utf8'), { file, ...(service.build.target ? { target: service.build.target } : {}), buildArgs: service.build.args });
  }
  if (kind === 'dockerfile') {
    const c = config as DevContainerConfig & { build?: { dockerfile?: string; target?: string; args?: Record<string, string> }; dockerFile?: string };
    const file = path.resolve(path.dirname(read.configFile), c.build?.dockerfile ?? c.dockerFile ?? 'Dockerfile');
    return dockerfileBaseImage(await readFile(file, 'utf8'), { file, ...(c.build?.target ? { target: c.build.target } : {}), ...(c.build?.args ? { buildArgs: c.build.args } : {}) });
  }
  return 'image' in config && typeof config.image === 'string' ? config.image : undefined;
}
