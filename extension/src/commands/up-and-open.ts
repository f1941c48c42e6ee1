/**
 * The shared part of Reopen in Container, Rebuild, Open Folder in
 * Container and Clone in Volume: `berth up ...` under a progress
 * notification that streams its log, then the window reopens on the
 * container's workspace folder. Errors offer "Show Log" and "Retry".
 */
import * as vscode from 'vscode';
import { containerUriString } from '../container-uri';
import { tokenSignal, type Services } from '../services';

export interface UpResult {
  readonly containerId: string;
  readonly remoteWorkspaceFolder: string;
}

export async function runUp(services: Services, args: readonly string[], title: string): Promise<UpResult | undefined> {
  services.log.show(true);
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title, cancellable: true },
      (progress, token) =>
        services.cli(['up', ...args], {
          signal: tokenSignal(token),
          onLog: (_text, message) => {
            if (message) progress.report({ message: message.slice(0, 120) });
          },
        }),
    );
    services.containersChanged.fire();
    const folder = result['remoteWorkspaceFolder'];
    return { containerId: String(result['containerId']), remoteWorkspaceFolder: typeof folder === 'string' && folder ? folder : '/' };
  } catch (err) {
    const message = (err as Error).message;
    services.log.error(`${title} failed: ${message}`);
    if ((err as { code?: string }).code === 'cancelled') return undefined;
    const choice = await vscode.window.showErrorMessage(`Berth: ${title} failed: ${message}`, 'Show Log', 'Retry');
    if (choice === 'Show Log') services.log.show();
    if (choice === 'Retry') return runUp(services, args, title);
    return undefined;
  }
}

export async function openContainerFolder(up: UpResult, newWindow = false): Promise<void> {
  const uri = vscode.Uri.parse(containerUriString({ containerId: up.containerId, path: up.remoteWorkspaceFolder }));
  await vscode.commands.executeCommand('vscode.openFolder', uri, { forceNewWindow: newWindow });
}

export async function upAndOpen(services: Services, args: readonly string[], title: string): Promise<void> {
  const up = await runUp(services, args, title);
  if (up) await openContainerFolder(up);
}
