/**
 * Reopen in Container, Rebuild (with and without cache), Reopen Folder
 * Locally, Open Folder in Container...: thin glue over `berth up` and
 * vscode.openFolder.
 */
import * as vscode from 'vscode';
import type { Services } from '../services';
import { containerFolder, describeContainerWorkspace, localFolder, workspaceArgs } from '../workspace-state';
import { upAndOpen } from './up-and-open';

/**
 * With a remote engine, a local folder cannot be mounted into its
 * containers: say so, and offer what works there. True: go on.
 */
async function localFolderWorks(services: Services): Promise<boolean> {
  const host = services.settings().remote?.host;
  if (!host) return true;
  const clone = 'Clone Repository in Container Volume...';
  const attach = 'Attach to Running Container...';
  const pick = await vscode.window.showWarningMessage(
    `Berth: the engine is on ${host}; this machine's folders cannot be mounted into containers there. Clone the repository into a container volume on ${host}, or attach to a running container.`,
    { modal: true },
    clone,
    attach,
  );
  if (pick === clone) await vscode.commands.executeCommand('berth.cloneInVolume');
  if (pick === attach) await vscode.commands.executeCommand('berth.attachToContainer');
  return false;
}

export async function reopenInContainer(services: Services): Promise<void> {
  const folder = localFolder();
  if (!folder) {
    void vscode.window.showErrorMessage('Berth: open a local folder with a dev container configuration first.');
    return;
  }
  if (!(await localFolderWorks(services))) return;
  await upAndOpen(services, ['--workspace-folder', folder.uri.fsPath], 'Starting the dev container');
}

export async function rebuild(services: Services, noCache: boolean): Promise<void> {
  const flags = ['--remove-existing-container', ...(noCache ? ['--build-no-cache'] : [])];
  const title = noCache ? 'Rebuilding the dev container without cache' : 'Rebuilding the dev container';
  const inContainer = containerFolder();
  if (inContainer) {
    const ws = await describeContainerWorkspace(services, inContainer);
    if (!ws.localFolder) {
      void vscode.window.showErrorMessage('Berth: this container was not made from a workspace folder; it cannot be rebuilt.');
      return;
    }
    services.pool.drop(ws.containerId);
    await upAndOpen(services, [...workspaceArgs(ws), ...flags], title);
    return;
  }
  const folder = localFolder();
  if (!folder) {
    void vscode.window.showErrorMessage('Berth: open a folder with a dev container configuration first.');
    return;
  }
  if (!(await localFolderWorks(services))) return;
  await upAndOpen(services, ['--workspace-folder', folder.uri.fsPath, ...flags], title);
}

export async function reopenLocally(services: Services): Promise<void> {
  const inContainer = containerFolder();
  if (!inContainer) {
    void vscode.window.showInformationMessage('Berth: this window is not in a container.');
    return;
  }
  const ws = await describeContainerWorkspace(services, inContainer);
  if (!ws.localFolder) {
    void vscode.window.showErrorMessage('Berth: this container has no local folder (attached, not made from a workspace).');
    return;
  }
  await vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(ws.localFolder));
}

export async function openFolderInContainer(services: Services): Promise<void> {
  if (!(await localFolderWorks(services))) return;
  const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Open in Container' });
  const folder = picked?.[0];
  if (!folder) return;
  await upAndOpen(services, ['--workspace-folder', folder.fsPath], 'Starting the dev container');
}
