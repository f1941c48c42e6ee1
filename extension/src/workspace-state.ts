/**
 * Where this window is: a local folder (maybe with a dev container
 * configuration) or a container's folder (berth-container://ID/path), and
 * for a container, the host folder and config file it was made from (its
 * id labels).
 */
import * as vscode from 'vscode';
import { CONTAINER_SCHEME, parseContainerUri } from './container-uri';
import type { Services } from './services';

export const LOCAL_FOLDER_LABEL = 'devcontainer.local_folder';
export const CONFIG_FILE_LABEL = 'devcontainer.config_file';

export interface ContainerWorkspace {
  readonly containerId: string;
  readonly remoteFolder: string;
  readonly name: string;
  readonly localFolder?: string;
  readonly configFile?: string;
}

export function containerFolder(): vscode.WorkspaceFolder | undefined {
  return vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === CONTAINER_SCHEME);
}

export function localFolder(): vscode.WorkspaceFolder | undefined {
  return vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
}

export async function describeContainerWorkspace(services: Services, folder: vscode.WorkspaceFolder): Promise<ContainerWorkspace> {
  const loc = parseContainerUri(folder.uri);
  const record = await services.api().call('containerInspect', { params: { id: loc.containerId } });
  const labels = record.request.labels ?? {};
  return {
    containerId: record.id,
    remoteFolder: loc.path,
    name: record.name,
    ...(labels[LOCAL_FOLDER_LABEL] ? { localFolder: labels[LOCAL_FOLDER_LABEL] } : {}),
    ...(labels[CONFIG_FILE_LABEL] ? { configFile: labels[CONFIG_FILE_LABEL] } : {}),
  };
}

/** --workspace-folder/--config of the workspace a container came from. */
export function workspaceArgs(ws: { localFolder?: string; configFile?: string }): string[] {
  if (!ws.localFolder) return [];
  return ['--workspace-folder', ws.localFolder, ...(ws.configFile ? ['--config', ws.configFile] : [])];
}
