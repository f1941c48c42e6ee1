/**
 * The Berth VS Code extension: dev containers on Berth's engine. The
 * extension host (desktop, VSCodium, code-server: always the Node side)
 * runs the `berth` CLI for `up` and templates, calls the engine's API
 * socket, and talks SSH to each container's agent over the engine's
 * WebSocket: files (SFTP + watch), terminals (PTY) and ports (direct-tcpip).
 */
import * as vscode from 'vscode';
import { addConfigFiles } from './commands/add-config-files';
import { cloneInVolume } from './commands/clone-in-volume';
import { attachToContainer, removeContainer, showContainerLog, stopContainer } from './commands/container-commands';
import { openFolderInContainer, rebuild, reopenInContainer, reopenLocally } from './commands/workspace-commands';
import { CONTAINER_SCHEME } from './container-uri';
import { registerConfigDiagnostics } from './diagnostics';
import { ContainerFileSystem } from './filesystem/container-fs';
import type { ForwardedPort } from './ports/port-forwarder';
import { createServices, type Services } from './services';
import { restoreSettings, startContainerSession, TERMINAL_PROFILE_TITLE } from './session/container-session';
import { ContainerPty } from './terminals/container-pty';
import { ContainerTerminalProfile } from './terminals/terminal-profile';
import { ContainersView, type ContainerNode } from './views/containers-view';
import { PortsView } from './views/ports-view';
import { connectRemote, disconnectRemote } from './commands/remote-commands';
import { openInRemoteSsh } from './commands/open-in-remote-ssh';
import { remoteLabel } from './remote/engine-connection';
import { containerStatusItem, describe } from './views/status-bar';
import { containerFolder, describeContainerWorkspace, localFolder } from './workspace-state';
import { offerReopen } from './views/reopen-notification';
import { registerTasks } from './tasks/task-provider';

function guarded<A extends unknown[]>(services: Services, name: string, fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      services.log.error(`${name}: ${(err as Error).message}`);
      const pick = await vscode.window.showErrorMessage(`Berth: ${name} failed: ${(err as Error).message}`, 'Show Log');
      if (pick) services.log.show();
    }
  };
}

function newContainerTerminal(services: Services): vscode.ExtensionTerminalOptions | undefined {
  const folder = containerFolder();
  if (!folder) return undefined;
  return { name: TERMINAL_PROFILE_TITLE, pty: new ContainerPty(services.pool.get(folder.uri.authority), folder.uri.path) };
}

function registerCommands(services: Services): void {
  const c = services.context;
  const cmd = <A extends unknown[]>(id: string, name: string, fn: (...args: A) => Promise<void>): void => {
    c.subscriptions.push(vscode.commands.registerCommand(id, guarded(services, name, fn)));
  };
  cmd('berth.reopenInContainer', 'Reopen in Container', () => reopenInContainer(services));
  cmd('berth.rebuildContainer', 'Rebuild Container', () => rebuild(services, false));
  cmd('berth.rebuildContainerNoCache', 'Rebuild Container Without Cache', () => rebuild(services, true));
  cmd('berth.reopenLocally', 'Reopen Folder Locally', () => reopenLocally(services));
  cmd('berth.openFolderInContainer', 'Open Folder in Container', () => openFolderInContainer(services));
  cmd('berth.cloneInVolume', 'Clone Repository in Container Volume', (url?: string, branch?: string) => cloneInVolume(services, url, branch));
  cmd('berth.attachToContainer', 'Attach to Running Container', (node?: ContainerNode) => attachToContainer(services, node));
  cmd('berth.addConfigFiles', 'Add Dev Container Configuration Files', () => addConfigFiles(services));
  cmd('berth.showContainerLog', 'Show Container Log', (node?: ContainerNode) => showContainerLog(services, node));
  cmd('berth.stopContainer', 'Stop Container', (node?: ContainerNode) => stopContainer(services, node));
  cmd('berth.removeContainer', 'Remove Container', (node?: ContainerNode) => removeContainer(services, node));
  cmd('berth.connectRemote', 'Connect to Remote Host', () => connectRemote(services));
  cmd('berth.disconnectRemote', 'Disconnect from Remote Host', () => disconnectRemote(services));
  cmd('berth.refreshContainers', 'Refresh', () => Promise.resolve(services.containersChanged.fire()));
  cmd('berth.showLog', 'Show Log', () => Promise.resolve(services.log.show()));
  cmd('berth.newTerminal', 'New Container Terminal', async () => {
    const options = newContainerTerminal(services);
    if (!options) throw new Error('this window is not in a container');
    vscode.window.createTerminal(options).show();
    return Promise.resolve();
  });
  cmd('berth.openInRemoteSsh', 'Open in a Remote-SSH Window', (node?: ContainerNode) => openInRemoteSsh(services, node));
  cmd('berth.showCommands', 'Commands', async () => {
    const inContainer = containerFolder() !== undefined;
    const ids = inContainer
      ? ['berth.reopenLocally', 'berth.rebuildContainer', 'berth.rebuildContainerNoCache', 'berth.newTerminal', 'berth.openInRemoteSsh', 'berth.showContainerLog', 'berth.stopContainer']
      : ['berth.reopenInContainer', 'berth.openFolderInContainer', 'berth.cloneInVolume', 'berth.attachToContainer', 'berth.addConfigFiles', 'berth.connectRemote', 'berth.disconnectRemote'];
    const all = (c.extension.packageJSON as { contributes: { commands: { command: string; title: string }[] } }).contributes.commands;
    const pick = await vscode.window.showQuickPick(all.filter((x) => ids.includes(x.command)).map((x) => ({ label: x.title, id: x.command })));
    if (pick) await vscode.commands.executeCommand(pick.id);
  });
  cmd('berth.ports.openInBrowser', 'Open in Browser', async (p?: ForwardedPort) => {
    if (p) await vscode.env.openExternal(vscode.Uri.parse(`http://127.0.0.1:${p.localPort}`));
  });
  cmd('berth.ports.stop', 'Stop Forwarding', (p?: ForwardedPort) => Promise.resolve(p && services.ports.stop(p)));
  cmd('berth.ports.forward', 'Forward a Port', async () => {
    const folder = containerFolder();
    if (!folder) throw new Error('this window is not in a container');
    const text = await vscode.window.showInputBox({ title: 'Forward a Port', prompt: 'Port in the container', validateInput: (v) => (/^\d{1,5}$/.test(v) && Number(v) > 0 && Number(v) < 65536 ? undefined : 'a port number') });
    if (!text) return;
    const fwd = await services.ports.forward(services.pool.get(folder.uri.authority), { host: '127.0.0.1', port: Number(text) }, { source: 'user' });
    void vscode.window.showInformationMessage(`Berth: forwarded port ${text} to 127.0.0.1:${fwd.localPort}`);
  });
}

/** The status bar item, following berth.host. */
function statusItem(services: Services, label: string | undefined): vscode.Disposable {
  const item = containerStatusItem(label, remoteLabel(services.settings()));
  const sub = vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration('berth.host')) describe(item, label, remoteLabel(services.settings()));
  });
  return vscode.Disposable.from(item, sub);
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const services = createServices(context);
  await services.remote.load();
  registerConfigDiagnostics(context);
  registerCommands(services);
  const fs = new ContainerFileSystem(services.pool);
  context.subscriptions.push(
    fs,
    vscode.workspace.registerFileSystemProvider(CONTAINER_SCHEME, fs, { isCaseSensitive: true }),
    vscode.window.registerTerminalProfileProvider('berth.containerShell', new ContainerTerminalProfile(() => newContainerTerminal(services))),
    registerTasks(services),
    vscode.window.registerTreeDataProvider('berth.containers', new ContainersView(services)),
    vscode.window.registerTreeDataProvider('berth.ports', new PortsView(services.ports)),
  );

  const folder = containerFolder();
  await vscode.commands.executeCommand('setContext', 'berth.inContainer', folder !== undefined);
  if (folder) {
    const ws = await describeContainerWorkspace(services, folder).catch((err: unknown) => {
      void vscode.window.showErrorMessage(`Berth: the container of this window is not available: ${(err as Error).message}`, 'Reopen Folder Locally').then((p) => {
        if (p) void vscode.commands.executeCommand('berth.reopenLocally');
      });
      return undefined;
    });
    context.subscriptions.push(statusItem(services, ws?.name));
    if (ws) {
      services.log.info(`window in container ${ws.name} (${ws.containerId.slice(0, 12)}), folder ${ws.remoteFolder}`);
      // Not awaited: the explorer and terminals work while ports and settings come up.
      void startContainerSession(services, ws).then(
        (ds) => context.subscriptions.push(...ds),
        (err: unknown) => services.log.error(`container session: ${(err as Error).message}`),
      );
    }
    return;
  }
  context.subscriptions.push(statusItem(services, undefined));
  await restoreSettings(services).catch((err: unknown) => services.log.warn(`cannot restore settings: ${(err as Error).message}`));
  const local = localFolder();
  if (local) void offerReopen(local);
}

export function deactivate(): void {
  /* disposables are owned by the extension context */
}
