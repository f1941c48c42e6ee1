/** The Ports view: forwarded ports with their local address; open in a browser, stop, forward another. */
import * as vscode from 'vscode';
import type { ForwardedPort, PortForwarder } from '../ports/port-forwarder';

export class PortsView implements vscode.TreeDataProvider<ForwardedPort> {
  readonly onDidChangeTreeData: vscode.Event<void>;

  constructor(private readonly ports: PortForwarder) {
    this.onDidChangeTreeData = ports.onDidChange;
  }

  getChildren(element?: ForwardedPort): ForwardedPort[] {
    return element ? [] : this.ports.list().sort((a, b) => a.target.port - b.target.port);
  }

  getTreeItem(p: ForwardedPort): vscode.TreeItem {
    const remote = p.target.host === '127.0.0.1' ? String(p.target.port) : `${p.target.host}:${p.target.port}`;
    const item = new vscode.TreeItem(`${p.label ? `${p.label} ` : ''}${remote} → 127.0.0.1:${p.localPort}`);
    item.description = p.source === 'auto' ? 'auto-forwarded' : p.source;
    item.contextValue = 'berth.port';
    item.iconPath = new vscode.ThemeIcon('plug');
    item.tooltip = `http://127.0.0.1:${p.localPort}`;
    return item;
  }
}
