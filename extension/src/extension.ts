/**
 * The Berth VS Code extension. Today: devcontainer.json diagnostics from
 * Berth's validator. The container workflows need the engine (issue #3) and
 * the agent (issue #7); their commands say so instead of pretending.
 */
import * as vscode from 'vscode';
import { notYet } from '../../src/common/errors';
import { registerConfigDiagnostics } from './diagnostics';

const PENDING: ReadonlyArray<readonly [command: string, what: string, issue: number]> = [
  ['berth.reopenInContainer', 'Reopen in Container', 8],
  ['berth.rebuildContainer', 'Rebuild Container', 8],
  ['berth.cloneInVolume', 'Clone Repository in Container Volume', 10],
  ['berth.attachToContainer', 'Attach to Running Container', 10],
];

export function activate(context: vscode.ExtensionContext): void {
  registerConfigDiagnostics(context);
  for (const [command, what, issue] of PENDING) {
    context.subscriptions.push(
      vscode.commands.registerCommand(command, () => {
        void vscode.window.showErrorMessage(`Berth: ${notYet(what, issue).message}`);
      }),
    );
  }
}

export function deactivate(): void {
  /* disposables are owned by the extension context */
}
