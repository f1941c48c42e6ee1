/**
 * The Dev Containers view: the engine's dev containers (those with a
 * devcontainer.local_folder label) by workspace folder, with their state,
 * forwarded ports and volumes; context actions open, stop, remove and show
 * the log.
 */
import path from 'node:path';
import * as vscode from 'vscode';
import type { ContainerRecord } from '../../../src/api/types/containers';
import type { Services } from '../services';
import { LOCAL_FOLDER_LABEL } from '../workspace-state';

export type ContainerNode =
  | { readonly kind: 'container'; readonly record: ContainerRecord }
  | { readonly kind: 'detail'; readonly label: string; readonly description?: string; readonly icon: string }
  | { readonly kind: 'message'; readonly label: string };

export class ContainersView implements vscode.TreeDataProvider<ContainerNode> {
  readonly onDidChangeTreeData: vscode.Event<void>;

  constructor(private readonly services: Services) {
    this.onDidChangeTreeData = services.containersChanged.event;
  }

  async getChildren(element?: ContainerNode): Promise<ContainerNode[]> {
    if (!element) {
      try {
        const list = await this.services.api().call('containerList', { query: { all: 'true', filters: JSON.stringify({ label: [LOCAL_FOLDER_LABEL] }) } });
        if (list.length === 0) return [{ kind: 'message', label: 'No dev containers' }];
        return [...list].sort((a, b) => (a.request.labels?.[LOCAL_FOLDER_LABEL] ?? '').localeCompare(b.request.labels?.[LOCAL_FOLDER_LABEL] ?? '')).map((record) => ({ kind: 'container', record }));
      } catch (err) {
        return [{ kind: 'message', label: `Engine unavailable: ${(err as Error).message}` }];
      }
    }
    if (element.kind !== 'container') return [];
    const r = element.record;
    const details: ContainerNode[] = [
      { kind: 'detail', label: 'State', description: r.state.status, icon: 'pulse' },
      { kind: 'detail', label: 'Image', description: r.imageRef, icon: 'package' },
    ];
    for (const p of this.services.ports.list().filter((f) => f.containerId === r.id)) details.push({ kind: 'detail', label: `Port ${p.target.port}`, description: `127.0.0.1:${p.localPort}`, icon: 'plug' });
    for (const m of r.mounts ?? []) if (m.type === 'volume') details.push({ kind: 'detail', label: `Volume ${m.name ?? m.source}`, description: m.destination, icon: 'database' });
    return details;
  }

  getTreeItem(node: ContainerNode): vscode.TreeItem {
    if (node.kind === 'message') return new vscode.TreeItem(node.label);
    if (node.kind === 'detail') {
      const item = new vscode.TreeItem(node.label);
      if (node.description) item.description = node.description;
      item.iconPath = new vscode.ThemeIcon(node.icon);
      return item;
    }
    const r = node.record;
    const folder = r.request.labels?.[LOCAL_FOLDER_LABEL] ?? r.name;
    const item = new vscode.TreeItem(path.basename(folder), vscode.TreeItemCollapsibleState.Collapsed);
    item.description = `${r.state.status} · ${r.name}`;
    item.tooltip = `${folder}\n${r.id.slice(0, 12)} ${r.imageRef}`;
    item.contextValue = r.state.status === 'running' ? 'berth.container.running' : 'berth.container.stopped';
    item.iconPath = new vscode.ThemeIcon(r.state.status === 'running' ? 'vm-running' : 'vm-outline');
    return item;
  }
}
