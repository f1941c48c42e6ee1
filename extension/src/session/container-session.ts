/**
 * A window on a container's folder: reads the configuration it came from,
 * forwards `forwardPorts`, auto-forwards the ports the agent sees open (per
 * `portsAttributes`/`otherPortsAttributes`), applies
 * `customizations.vscode.settings`, installs `customizations.vscode.extensions`
 * and makes the container's shell the default terminal profile. Settings it
 * changed are restored when a window opens on a local folder again.
 */
import * as vscode from 'vscode';
import { LineSplitter } from '../runner/log-lines';
import { attributesFor, autoForwardAction, forwardTargets } from '../ports/port-attributes';
import type { Services } from '../services';
import { workspaceArgs, type ContainerWorkspace } from '../workspace-state';
import { settingsPlan, vscodeCustomizations } from './customizations';

export const TERMINAL_PROFILE_TITLE = 'Berth Container';
const RESTORE_KEY = 'berth.settingsToRestore';

async function applySettings(services: Services, wanted: Readonly<Record<string, unknown>>): Promise<void> {
  const config = vscode.workspace.getConfiguration();
  const plan = settingsPlan(wanted, (key) => config.inspect(key)?.globalValue);
  const restore = { ...(services.context.globalState.get<Record<string, unknown>>(RESTORE_KEY) ?? {}) };
  for (const [key, value] of Object.entries(plan.apply)) {
    if (!(key in restore)) restore[key] = plan.previous[key] ?? null;
    await config.update(key, value, vscode.ConfigurationTarget.Global);
  }
  await services.context.globalState.update(RESTORE_KEY, restore);
}

/** In a local window: put back the settings a container window changed. */
export async function restoreSettings(services: Services): Promise<void> {
  const restore = services.context.globalState.get<Record<string, unknown>>(RESTORE_KEY);
  if (!restore) return;
  const config = vscode.workspace.getConfiguration();
  for (const [key, value] of Object.entries(restore)) await config.update(key, value === null ? undefined : value, vscode.ConfigurationTarget.Global);
  await services.context.globalState.update(RESTORE_KEY, undefined);
}

async function readConfiguration(services: Services, ws: ContainerWorkspace): Promise<Record<string, unknown>> {
  if (!ws.localFolder) return {};
  const out = await services.cli(['read-configuration', ...workspaceArgs(ws), '--include-merged-configuration']);
  return (out['mergedConfiguration'] ?? out['configuration'] ?? {}) as Record<string, unknown>;
}

function autoForward(services: Services, ws: ContainerWorkspace, config: Record<string, unknown>): vscode.Disposable {
  let channel: import('ssh2').ClientChannel | undefined;
  let closed = false;
  const connection = services.pool.get(ws.containerId);
  void connection
    .subsystem('berth-ports')
    .then((ch) => {
      if (closed) return ch.close();
      channel = ch;
      const lines = new LineSplitter();
      ch.on('data', (d: Buffer) => {
        for (const line of lines.push(d.toString('utf8'))) {
          let ev: { event?: string; port?: number; address?: string };
          try {
            ev = JSON.parse(line) as typeof ev;
          } catch {
            continue;
          }
          if (ev.event !== 'open' || typeof ev.port !== 'number') continue;
          // The agent's own listeners and ports already forwarded are not news.
          const target = { host: '127.0.0.1', port: ev.port };
          if (services.ports.find(ws.containerId, target)) continue;
          const attrs = attributesFor(ev.port, config['portsAttributes'], config['otherPortsAttributes']);
          const action = autoForwardAction(attrs);
          if (action === 'ignore') continue;
          void services.ports
            .forward(connection, target, { source: 'auto', ...(attrs.label ? { label: attrs.label } : {}), ...(attrs.requireLocalPort ? { requireLocalPort: true } : {}) })
            .then(async (fwd) => {
              const url = `${attrs.protocol ?? 'http'}://127.0.0.1:${fwd.localPort}`;
              if (action === 'openBrowser' || action === 'openBrowserOnce' || action === 'openPreview') await vscode.env.openExternal(vscode.Uri.parse(url));
              else if (action === 'notify') {
                const pick = await vscode.window.showInformationMessage(`Berth: port ${ev.port}${attrs.label ? ` (${attrs.label})` : ''} is forwarded to ${url}`, 'Open in Browser');
                if (pick) await vscode.env.openExternal(vscode.Uri.parse(url));
              }
            })
            .catch((err: unknown) => services.log.warn(`auto-forward of port ${String(ev.port)}: ${(err as Error).message}`));
        }
      });
    })
    .catch((err: unknown) => services.log.warn(`port detection unavailable: ${(err as Error).message}`));
  return new vscode.Disposable(() => {
    closed = true;
    channel?.close();
  });
}

export async function startContainerSession(services: Services, ws: ContainerWorkspace): Promise<vscode.Disposable[]> {
  const disposables: vscode.Disposable[] = [];
  const connection = services.pool.get(ws.containerId);
  const config: Record<string, unknown> = await readConfiguration(services, ws).catch((err: unknown) => {
    services.log.warn(`cannot read the configuration of ${ws.localFolder ?? ws.name}: ${(err as Error).message}`);
    return {};
  });

  for (const target of forwardTargets(config['forwardPorts'])) {
    const attrs = attributesFor(target.port, config['portsAttributes'], config['otherPortsAttributes']);
    try {
      const fwd = await services.ports.forward(connection, target, { source: 'forwardPorts', ...(attrs.label ? { label: attrs.label } : {}), ...(attrs.requireLocalPort ? { requireLocalPort: true } : {}) });
      if (autoForwardAction(attrs) === 'notify') void vscode.window.showInformationMessage(`Berth: forwarded port ${target.port} to 127.0.0.1:${fwd.localPort}`);
    } catch (err) {
      void vscode.window.showWarningMessage(`Berth: cannot forward port ${target.port}: ${(err as Error).message}`);
    }
  }
  disposables.push(autoForward(services, ws, config));

  const { settings, extensions } = vscodeCustomizations(config);
  await applySettings(services, { ...settings, 'terminal.integrated.defaultProfile.linux': TERMINAL_PROFILE_TITLE }).catch((err: unknown) =>
    services.log.warn(`cannot apply customizations.vscode.settings: ${(err as Error).message}`),
  );
  for (const id of extensions) {
    if (vscode.extensions.getExtension(id)) continue;
    try {
      await vscode.commands.executeCommand('workbench.extensions.installExtension', id);
      services.log.info(`installed extension ${id} (customizations.vscode.extensions)`);
    } catch (err) {
      services.log.warn(`cannot install extension ${id}: ${(err as Error).message}`);
    }
  }
  return disposables;
}
