/**
 * Berth: Open in a Remote-SSH Window. With Remote - SSH
 * (ms-vscode-remote.remote-ssh) or Open Remote - SSH (jeanp413.open-remote-ssh)
 * installed: the container's Host block from `berth ssh-config` goes into
 * ~/.ssh/berth/config, ~/.ssh/config Includes it (after a modal question),
 * and a new window opens vscode-remote://ssh-remote+NAME.berth/FOLDER: a
 * full remote window, with the VS Code server running in the container.
 * Without either, it says so and offers the config on the clipboard.
 */
import os from 'node:os';
import * as vscode from 'vscode';
import { runCliText } from '../runner/berth-cli';
import type { Services } from '../services';
import { addInclude, hostAliases, remoteSshUri, sshConfigFiles, userConfigIncludesBerth, writeBerthHosts } from '../remote-ssh/ssh-config-files';
import type { ContainerNode } from '../views/containers-view';
import { containerFolder, describeContainerWorkspace } from '../workspace-state';
import { attachFolder } from './attach-folder';

export const REMOTE_SSH_EXTENSIONS = ['ms-vscode-remote.remote-ssh', 'jeanp413.open-remote-ssh'] as const;

/** The container and folder: the node picked in the Dev Containers view, or this window's. */
async function target(services: Services, node?: ContainerNode): Promise<{ id: string; folder: string }> {
  if (node?.kind === 'container') return { id: node.record.id, folder: attachFolder(node.record) || '/' };
  const folder = containerFolder();
  if (!folder) throw new Error('this window is not in a container (pick one in the Dev Containers view)');
  const ws = await describeContainerWorkspace(services, folder);
  return { id: ws.containerId, folder: ws.remoteFolder };
}

export async function openInRemoteSsh(services: Services, node?: ContainerNode): Promise<void> {
  const { id, folder } = await target(services, node);
  const block = await runCliText(services.settings(), ['ssh-config', id], { onLog: (l) => services.log.info(l.text) });
  const host = hostAliases(block)[0];
  if (!host) throw new Error('berth ssh-config gave no Host block');
  const remoteSsh = REMOTE_SSH_EXTENSIONS.find((x) => vscode.extensions.getExtension(x));
  if (!remoteSsh) {
    const pick = await vscode.window.showInformationMessage(
      'Berth: a Remote-SSH window needs the Remote - SSH extension (ms-vscode-remote.remote-ssh) or Open Remote - SSH (jeanp413.open-remote-ssh); neither is installed. The container is reachable with any ssh client through its Host block.',
      'Copy SSH Config',
    );
    if (pick) {
      await vscode.env.clipboard.writeText(block);
      void vscode.window.showInformationMessage(`Berth: the Host block of ${host} is on the clipboard (ssh ${host} once it is in your ssh config).`);
    }
    return;
  }
  const home = os.homedir();
  const files = sshConfigFiles(home);
  await writeBerthHosts(files, block);
  services.log.info(`wrote the Host block of ${host} to ${files.berthConfig}`);
  if (!(await userConfigIncludesBerth(files, home))) {
    const add = 'Add the Include';
    const pick = await vscode.window.showWarningMessage(
      `Berth keeps its containers' hosts in ${files.berthConfig}. Add "Include" for it at the top of ${files.userConfig}? Nothing else in that file changes.`,
      { modal: true },
      add,
    );
    if (pick !== add) {
      void vscode.window.showInformationMessage(`Berth: ${host} is in ${files.berthConfig}; without an Include in ${files.userConfig}, Remote-SSH cannot find it.`);
      return;
    }
    await addInclude(files, home);
    services.log.info(`added an Include of ${files.berthConfig} to ${files.userConfig}`);
  }
  const uri = vscode.Uri.parse(remoteSshUri(host, folder));
  services.log.info(`opening ${uri.toString()} with ${remoteSsh}`);
  await vscode.commands.executeCommand('vscode.openFolder', uri, { forceNewWindow: true });
}
