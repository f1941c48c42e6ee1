/** Clone Repository in Container Volume...: `berth up --clone URL [--branch B]`, then open the clone in its container. */
import * as vscode from 'vscode';
import type { Services } from '../services';
import { upAndOpen } from './up-and-open';

export async function cloneInVolume(services: Services, urlArg?: string, branchArg?: string): Promise<void> {
  const url =
    urlArg ??
    (await vscode.window.showInputBox({
      title: 'Clone Repository in Container Volume',
      prompt: 'Repository URL (https, ssh, file:// or a local path); cloned with your git credentials',
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() === '' ? 'a repository URL' : undefined),
    }));
  if (!url) return;
  const branch =
    branchArg ?? (await vscode.window.showInputBox({ title: 'Branch (optional)', prompt: 'Branch or tag to clone; empty for the default branch', ignoreFocusOut: true }));
  if (branch === undefined) return;
  await upAndOpen(services, ['--clone', url.trim(), ...(branch.trim() ? ['--branch', branch.trim()] : [])], 'Cloning into a volume and starting the dev container');
}
