/** The status bar item: which container this window is in; a click offers the Berth commands. */
import * as vscode from 'vscode';

export function containerStatusItem(label: string | undefined): vscode.StatusBarItem {
  const item = vscode.window.createStatusBarItem('berth.status', vscode.StatusBarAlignment.Left, 1000);
  item.name = 'Berth';
  item.text = label ? `$(remote) Dev Container: ${label}` : '$(remote) Berth';
  item.tooltip = label ? `In the Berth dev container ${label}` : 'Berth dev containers';
  item.command = 'berth.showCommands';
  item.show();
  return item;
}
