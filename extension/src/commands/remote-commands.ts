/**
 * Berth: Connect to Remote Host... (a `berth serve` gateway's https://
 * address, its token into SecretStorage, the certificate's fingerprint for a
 * self-signed one; or ssh://user@host) and Berth: Disconnect from Remote Host.
 */
import * as vscode from 'vscode';
import { isGatewayHost } from '../../../src/api/engine-target';
import { RemoteSettings } from '../remote/remote-settings';
import type { Services } from '../services';

function checkHost(v: string): string | undefined {
  try {
    const u = new URL(v.trim());
    return ['https:', 'http:', 'ssh:'].includes(u.protocol) && u.hostname ? undefined : 'https://host:port (a berth serve gateway) or ssh://user@host[:port]';
  } catch {
    return 'https://host:port (a berth serve gateway) or ssh://user@host[:port]';
  }
}

export async function connectRemote(services: Services): Promise<void> {
  const current = services.settings().remote?.host ?? '';
  const host = (await vscode.window.showInputBox({ title: 'Connect to Remote Host', prompt: 'A berth serve gateway (https://host:port) or an engine over SSH (ssh://user@host[:port][/socket])', value: current, ignoreFocusOut: true, validateInput: checkHost }))?.trim();
  if (!host) return;
  let token: string | undefined;
  let fingerprint: string | undefined;
  if (isGatewayHost(host)) {
    const where = RemoteSettings.tokenStore() === 'secrets' ? "VS Code's secret storage" : 'your user settings (berth.token): secret storage does not outlive a page reload in a browser';
    token = await vscode.window.showInputBox({ title: 'Gateway Token', prompt: `The token from \`berth token create\` on the gateway host (kept in ${where})`, password: true, ignoreFocusOut: true, validateInput: (v) => (v.trim() ? undefined : 'a token') });
    if (token === undefined) return;
    fingerprint = await vscode.window.showInputBox({
      title: 'Certificate Fingerprint (optional)',
      prompt: "The gateway certificate's SHA-256 fingerprint, printed by `berth serve`, for a self-signed certificate; empty for a CA-signed one",
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() === '' || v.replace(/[^0-9a-f]/gi, '').length === 64 ? undefined : '64 hex digits (colons allowed), or empty'),
    });
    if (fingerprint === undefined) return;
  }
  await services.remote.connect(host, token?.trim(), fingerprint?.trim());
  services.pool.dispose();
  const engine = await services.api().call('ping').catch((err: Error) => err);
  services.containersChanged.fire();
  if (engine instanceof Error) {
    void vscode.window.showWarningMessage(`Berth: ${host} is set, but the engine there cannot be reached: ${engine.message}`);
    return;
  }
  void vscode.window.showInformationMessage(`Berth: connected to the engine on ${host}. Clone a repository into a container volume there, or attach to one of its containers.`);
}

export async function disconnectRemote(services: Services): Promise<void> {
  await services.remote.disconnect();
  services.pool.dispose();
  services.containersChanged.fire();
  void vscode.window.showInformationMessage('Berth: back to the local engine.');
}
