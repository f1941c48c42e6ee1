/**
 * Who and where commands run in an existing dev container: the container
 * found by its id labels, its configuration merged with the metadata it was
 * created with, the remote user, workspace folder and environment.
 */
import type { ApiClient } from '../api/client';
import type { ContainerRecord } from '../api/types/containers';
import { BerthError } from '../common/errors';
import type { Logger } from '../common/log';
import { IMAGE_METADATA_LABEL, mergeConfiguration, parseImageMetadataLabel, type MergedDevContainerConfig } from '../config/image-metadata';
import { readConfiguration } from '../config/read';
import { substituteDevcontainerId } from '../config/substitute';
import { remoteEnvironment, remoteUserOf } from './setup-container';
import { defaultIdLabels, findDevContainer, withConfig } from './up';

export interface RemoteContext {
  readonly record: ContainerRecord;
  readonly merged: MergedDevContainerConfig;
  readonly remoteUser: string;
  readonly remoteWorkspaceFolder: string;
  readonly remoteEnv: readonly string[];
}

export interface RemoteContextOptions {
  readonly api: ApiClient;
  readonly workspaceFolder: string;
  readonly configFile?: string;
  readonly idLabels?: Readonly<Record<string, string>>;
  readonly remoteEnv?: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
}

export async function remoteContext(options: RemoteContextOptions): Promise<RemoteContext> {
  const { api, signal } = options;
  const s = signal ? { signal } : {};
  const read = await readConfiguration({ workspaceFolder: options.workspaceFolder, ...(options.configFile ? { configFile: options.configFile } : {}), env: options.env, logger: options.logger, ...s });
  const idLabels = options.idLabels ?? defaultIdLabels(options.workspaceFolder, read.configFile);
  const record = await findDevContainer(api, idLabels, signal);
  if (!record) throw new BerthError('not_found', `no dev container for ${options.workspaceFolder}; run 'berth up' first`);
  const entries = parseImageMetadataLabel(record.request.labels?.[IMAGE_METADATA_LABEL]);
  const config = substituteDevcontainerId(read.config, idLabels);
  const merged = mergeConfiguration(config, withConfig(entries.slice(0, -1), config));
  const image = await api.call('imageInspect', { params: { name: record.imageId }, ...s }).catch(() => undefined);
  const remoteUser = remoteUserOf(merged, image?.config.config?.User ?? '');
  const remoteWorkspaceFolder = read.workspace.workspaceFolder ?? '/';
  const base = { api, containerId: record.id, user: remoteUser, workingDir: remoteWorkspaceFolder, logger: options.logger, ...s };
  return { record, merged, remoteUser, remoteWorkspaceFolder, remoteEnv: await remoteEnvironment(base, record, merged, options.remoteEnv) };
}
