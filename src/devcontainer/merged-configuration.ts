/**
 * The configuration merged with its image's devcontainer.metadata label,
 * read from the engine. Dockerfile and feature sources need parts of Berth
 * that are still missing, and say so. A compose configuration's image is its
 * service's (as `berth up` or `berth build` left it in the engine).
 */
import type { ApiClient } from '../api/client';
import { BerthError, notYet } from '../common/errors';
import { IMAGE_METADATA_LABEL, mergeWithImageMetadata, type MergedDevContainerConfig } from '../config/image-metadata';
import { builtImageName } from '../compose/images';
import { configKind, isComposeConfig, type DevContainerConfig } from '../config/types';
import { loadDevContainerProject } from './up-compose';

export async function mergedConfiguration(
  config: DevContainerConfig,
  client: ApiClient,
  options: { signal?: AbortSignal; compose?: { configFile: string; workspaceFolder: string; env: NodeJS.ProcessEnv } } = {},
): Promise<MergedDevContainerConfig> {
  if (config.features && Object.keys(config.features).length > 0) throw notYet('merging the metadata of features', 8);
  const kind = configKind(config);
  if (kind === 'dockerfile') throw notYet('image metadata of Dockerfile-based configurations (needs the builder)', 6);
  if (isComposeConfig(config)) {
    if (!options.compose) throw new BerthError('internal', 'the merged configuration of a compose configuration needs its file and workspace');
    const { configFile, workspaceFolder, env } = options.compose;
    const project = await loadDevContainerProject(config, configFile, workspaceFolder, env, options.signal);
    const service = project.services[config.service];
    if (!service) throw new BerthError('invalid_argument', `service "${config.service}" is not in ${project.configFiles.join(', ')}`);
    const image = await client.call('imageInspect', { params: { name: builtImageName(project, service) }, ...(options.signal ? { signal: options.signal } : {}) });
    return mergeWithImageMetadata(config, image.config.config?.Labels?.[IMAGE_METADATA_LABEL]);
  }
  if (kind === 'none' || !('image' in config) || config.image === undefined) return mergeWithImageMetadata(config, undefined);
  const image = await client.call('imageInspect', { params: { name: config.image }, ...(options.signal ? { signal: options.signal } : {}) });
  return mergeWithImageMetadata(config, image.config.config?.Labels?.[IMAGE_METADATA_LABEL]);
}
