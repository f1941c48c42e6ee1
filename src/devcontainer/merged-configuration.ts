/**
 * The configuration merged with its image's devcontainer.metadata label,
 * read from the engine. Dockerfile, compose and feature sources need parts
 * of Berth that are still missing, and say so.
 */
import type { ApiClient } from '../api/client';
import { notYet } from '../common/errors';
import { IMAGE_METADATA_LABEL, mergeWithImageMetadata, type MergedDevContainerConfig } from '../config/image-metadata';
import { configKind, type DevContainerConfig } from '../config/types';

export async function mergedConfiguration(
  config: DevContainerConfig,
  client: ApiClient,
  options: { signal?: AbortSignal } = {},
): Promise<MergedDevContainerConfig> {
  if (config.features && Object.keys(config.features).length > 0) throw notYet('merging the metadata of features', 8);
  const kind = configKind(config);
  if (kind === 'dockerfile') throw notYet('image metadata of Dockerfile-based configurations (needs the builder)', 6);
  if (kind === 'compose') throw notYet('image metadata of compose-based configurations', 9);
  if (kind === 'none' || !('image' in config) || config.image === undefined) return mergeWithImageMetadata(config, undefined);
  const image = await client.call('imageInspect', { params: { name: config.image }, ...(options.signal ? { signal: options.signal } : {}) });
  return mergeWithImageMetadata(config, image.config.config?.Labels?.[IMAGE_METADATA_LABEL]);
}
