/**
 * The remote host settings: berth.host, berth.tlsFingerprint, berth.tlsCa,
 * and the token (VS Code's SecretStorage, per host; berth.token only as a
 * fallback). The secret is read once at activation and again when it
 * changes, so the settings stay synchronous for every CLI run and API call.
 * In a browser (code-server, VS Code for the Web) the secret storage lives
 * only until the page reloads, and opening a container's folder reloads it:
 * there the token goes to the berth.token user setting instead.
 */
import * as vscode from 'vscode';
import type { EngineTarget } from '../../../src/api/engine-target';

const secretKey = (host: string): string => `berth.token:${host}`;

export class RemoteSettings implements vscode.Disposable {
  private secret: string | undefined;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly secrets: vscode.SecretStorage) {
    this.subscription = vscode.Disposable.from(
      secrets.onDidChange((e) => {
        if (e.key === secretKey(this.host() ?? '')) void this.load();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('berth.host')) void this.load();
      }),
    );
  }

  private host(): string | undefined {
    return vscode.workspace.getConfiguration('berth').get<string>('host')?.trim() || undefined;
  }

  async load(): Promise<void> {
    const host = this.host();
    this.secret = host ? await this.secrets.get(secretKey(host)) : undefined;
  }

  /** The remote engine, or undefined for the local one. */
  target(): Omit<EngineTarget, 'socket'> | undefined {
    const host = this.host();
    if (!host) return undefined;
    const c = vscode.workspace.getConfiguration('berth');
    return {
      host,
      token: this.secret || c.get<string>('token') || undefined,
      tlsFingerprint: c.get<string>('tlsFingerprint') || undefined,
      tlsCa: c.get<string>('tlsCa') || undefined,
    };
  }

  /** Where connect() keeps the token: 'secrets', or 'settings' in a browser. */
  static tokenStore(): 'secrets' | 'settings' {
    return vscode.env.uiKind === vscode.UIKind.Web ? 'settings' : 'secrets';
  }

  async connect(host: string, token: string | undefined, fingerprint: string | undefined): Promise<void> {
    const c = vscode.workspace.getConfiguration('berth');
    if (token && RemoteSettings.tokenStore() === 'secrets') await this.secrets.store(secretKey(host), token);
    await c.update('token', token && RemoteSettings.tokenStore() === 'settings' ? token : undefined, vscode.ConfigurationTarget.Global);
    await c.update('tlsFingerprint', fingerprint || undefined, vscode.ConfigurationTarget.Global);
    await c.update('host', host, vscode.ConfigurationTarget.Global);
    await this.load();
  }

  async disconnect(): Promise<void> {
    const host = this.host();
    if (host) await this.secrets.delete(secretKey(host));
    const c = vscode.workspace.getConfiguration('berth');
    await c.update('token', undefined, vscode.ConfigurationTarget.Global);
    await c.update('host', undefined, vscode.ConfigurationTarget.Global);
    await this.load();
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
