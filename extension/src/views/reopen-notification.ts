/** When a local folder with a dev container configuration opens: offer "Reopen in Container". */
import * as vscode from 'vscode';

export async function offerReopen(folder: vscode.WorkspaceFolder): Promise<void> {
  if (!vscode.workspace.getConfiguration('berth').get<boolean>('showReopenNotification', true)) return;
  const found = await vscode.workspace.findFiles(new vscode.RelativePattern(folder, '{.devcontainer/devcontainer.json,.devcontainer.json,.devcontainer/*/devcontainer.json}'), undefined, 1);
  if (found.length === 0) return;
  const pick = await vscode.window.showInformationMessage(
    'Folder contains a Dev Container configuration file. Reopen folder to develop in a container (Berth).',
    'Reopen in Container',
    "Don't Show Again",
  );
  if (pick === 'Reopen in Container') await vscode.commands.executeCommand('berth.reopenInContainer');
  if (pick === "Don't Show Again") await vscode.workspace.getConfiguration('berth').update('showReopenNotification', false, vscode.ConfigurationTarget.Global);
}
