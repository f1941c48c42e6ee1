/**
 * Attach to Running Container..., Show Container Log, Stop and Remove
 * Container: on the engine's API (the container may be picked, given by
 * the tree view, or be this window's).
 */
import * as vscode from 'vscode';
import type { ContainerRecord } from '../../../src/api/types/containers';
import { containerUriString } from '../container-uri';
import { attachFolder } from './attach-folder';
import type { Services } from '../services';
import type { ContainerNode } from '../views/containers-view';
import { containerFolder, LOCAL_FOLDER_LABEL } from '../workspace-state';

async function pickContainer(services: Services, title: string, running: boolean): Promise<ContainerRecord | undefined> {
  const list = await services.api().call('containerList', { query: running ? {} : { all: 'true' } });
  if (list.length === 0) {
    void vscode.window.showInformationMessage(running ? 'Berth: no running containers.' : 'Berth: no containers.');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    list.map((r) => ({ label: r.name, description: `${r.state.status} · ${r.imageRef}`, detail: r.request.labels?.[LOCAL_FOLDER_LABEL], record: r })),
    { title, matchOnDescription: true },
  );
  return pick?.record;
}

/** The container of a tree node, else this window's, else one the user picks. */
async function targetContainer(services: Services, node: ContainerNode | undefined, title: string): Promise<ContainerRecord | undefined> {
  if (node?.kind === 'container') return node.record;
  const folder = containerFolder();
  if (folder) return services.api().call('containerInspect', { params: { id: folder.uri.authority } });
  return pickContainer(services, title, false);
}

export async function attachToContainer(services: Services, node?: ContainerNode): Promise<void> {
  const record = node?.kind === 'container' ? node.record : await pickContainer(services, 'Attach to Running Container', true);
  if (!record) return;
  if (record.state.status !== 'running') await services.api().call('containerStart', { params: { id: record.id } });
  const folder = attachFolder(record);
  await vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.parse(containerUriString({ containerId: record.id, path: folder || '/' })));
}

export async function showContainerLog(services: Services, node?: ContainerNode): Promise<void> {
  const record = await targetContainer(services, node, 'Show Container Log');
  if (!record) return;
  const channel = services.log;
  channel.show(true);
  channel.info(`--- log of ${record.name} (${record.id.slice(0, 12)}) ---`);
  for await (const line of services.api().stream('containerLogs', { params: { id: record.id }, query: { follow: 'false', tail: '1000' } })) {
    channel.info(`${line.stream === 'stderr' ? '! ' : ''}${line.line}`);
  }
}

export async function stopContainer(services: Services, node?: ContainerNode): Promise<void> {
  const record = await targetContainer(services, node, 'Stop Container');
  if (!record) return;
  await services.api().call('containerStop', { params: { id: record.id } });
  services.pool.drop(record.id);
  services.containersChanged.fire();
  void vscode.window.showInformationMessage(`Berth: stopped ${record.name}.`);
}

export async function removeContainer(services: Services, node?: ContainerNode): Promise<void> {
  const record = await targetContainer(services, node, 'Remove Container');
  if (!record) return;
  const ok = await vscode.window.showWarningMessage(`Remove the container ${record.name}? Named volumes stay.`, { modal: true }, 'Remove');
  if (ok !== 'Remove') return;
  services.pool.drop(record.id);
  await services.api().call('containerRemove', { params: { id: record.id }, query: { force: 'true' } });
  services.containersChanged.fire();
}
