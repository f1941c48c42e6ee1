/**
 * What the commands and views share, built once in activate() and passed
 * down: the settings (a remote host among them), the engine's API client,
 * agent connections, the CLI runner, the log channel and the port forwarder.
 */
import * as vscode from 'vscode';
import type { ApiClient } from '../../src/api/client';
import { ConnectionPool } from './agent/connection-pool';
import { engineApi } from './remote/engine-connection';
import { RemoteSettings } from './remote/remote-settings';
import { runCli, type CliSettings } from './runner/berth-cli';
import { PortForwarder } from './ports/port-forwarder';

export interface Services {
  readonly context: vscode.ExtensionContext;
  readonly log: vscode.LogOutputChannel;
  readonly remote: RemoteSettings;
  /** The CLI's settings: the executable, the socket, the remote host. */
  readonly settings: () => CliSettings;
  readonly pool: ConnectionPool;
  readonly ports: PortForwarder;
  readonly api: () => ApiClient;
  readonly cli: (args: readonly string[], options?: { signal?: AbortSignal; onLog?: (text: string, progress?: string) => void }) => Promise<Record<string, unknown>>;
  /** Fired when containers change (up, stop, remove): the views refresh. */
  readonly containersChanged: vscode.EventEmitter<void>;
}

export function cliSettings(remote?: RemoteSettings): CliSettings {
  const c = vscode.workspace.getConfiguration('berth');
  const socket = c.get<string>('socket') || process.env['BERTH_SOCKET'] || undefined;
  const target = remote?.target();
  return { executable: c.get<string>('executable') || 'berth', socket, ...(target ? { remote: target } : {}) };
}

export function createServices(context: vscode.ExtensionContext): Services {
  const log = vscode.window.createOutputChannel('Berth', { log: true });
  const remote = new RemoteSettings(context.secrets);
  const settings = (): CliSettings => cliSettings(remote);
  const api = (): ApiClient => engineApi(settings(), process.env);
  const pool = new ConnectionPool(api);
  const ports = new PortForwarder(log);
  const containersChanged = new vscode.EventEmitter<void>();
  context.subscriptions.push(log, remote, { dispose: () => pool.dispose() }, ports, containersChanged);
  const cli: Services['cli'] = (args, options = {}) => {
    const s = settings();
    log.info(`${s.executable} ${args.join(' ')}${s.remote?.host ? ` (on ${s.remote.host})` : ''}`);
    return runCli(s, args, {
      ...(options.signal ? { signal: options.signal } : {}),
      onLog: (line) => {
        if (line.level === 'error') log.error(line.text);
        else if (line.level === 'warn') log.warn(line.text);
        else log.info(line.text);
        options.onLog?.(line.text, line.progress);
      },
    });
  };
  return { context, log, remote, settings, pool, ports, api, cli, containersChanged };
}

/** A CancellationToken as an AbortSignal, at the edge. */
export function tokenSignal(token: vscode.CancellationToken): AbortSignal {
  const ac = new AbortController();
  if (token.isCancellationRequested) ac.abort();
  token.onCancellationRequested(() => ac.abort());
  return ac.signal;
}
