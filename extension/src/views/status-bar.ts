/** The status bar item: which container this window is in, on which remote engine; a click offers the Berth commands. */
import * as vscode from 'vscode';

export function containerStatusItem(label: string | undefined, host?: string): vscode.StatusBarItem {
  const item = vscode.window.createStatusBarItem('berth.status', vscode.StatusBarAlignment.Left, 1000);
  item.name = 'Berth';
  describe(item, label, host);
  item.command = 'berth.showCommands';
  item.show();
  return item;
}

/** The item's text: the container, and the remote engine's host when there is one. */
export function describe(item: vscode.StatusBarItem, label: string | undefined, host: string | undefined): void {
  const on = host ? ` on ${host}` : '';
  item.text = label ? `$(remote) Dev Container: ${label}${on}` : `$(remote) Berth${on}`;
  item.tooltip = label ? `In the Berth dev container ${label}${host ? ` (engine on ${host})` : ''}` : host ? `Berth dev containers on ${host}` : 'Berth dev containers';
}
