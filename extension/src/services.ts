/**
 * What the commands and views share, built once in activate() and passed
 * down: the settings, the engine's API client, agent connections, the CLI
 * runner, the log channel and the port forwarder.
 */
import * as vscode from 'vscode';
import { ApiClient } from '../../src/api/client';
import { enginePaths } from '../../src/api/engine-paths';
import { ConnectionPool } from './agent/connection-pool';
import { runCli, type CliSettings } from './runner/berth-cli';
import { PortForwarder } from './ports/port-forwarder';

export interface Services {
  readonly context: vscode.ExtensionContext;
  readonly log: vscode.LogOutputChannel;
  readonly pool: ConnectionPool;
  readonly ports: PortForwarder;
  readonly api: () => ApiClient;
  readonly cli: (args: readonly string[], options?: { signal?: AbortSignal; onLog?: (text: string, progress?: string) => void }) => Promise<Record<string, unknown>>;
  /** Fired when containers change (up, stop, remove): the views refresh. */
  readonly containersChanged: vscode.EventEmitter<void>;
}

export function cliSettings(): CliSettings {
  const c = vscode.workspace.getConfiguration('berth');
  const socket = c.get<string>('socket') || process.env['BERTH_SOCKET'] || undefined;
  return { executable: c.get<string>('executable') || 'berth', socket };
}

export function createServices(context: vscode.ExtensionContext): Services {
  const log = vscode.window.createOutputChannel('Berth', { log: true });
  const api = (): ApiClient => {
    const socket = cliSettings().socket;
    return new ApiClient({ socketPath: enginePaths(socket ? { socketPath: socket } : {}).socketPath });
  };
  const pool = new ConnectionPool(api);
  const ports = new PortForwarder(log);
  const containersChanged = new vscode.EventEmitter<void>();
  context.subscriptions.push(log, { dispose: () => pool.dispose() }, ports, containersChanged);
  const cli: Services['cli'] = (args, options = {}) => {
    const settings = cliSettings();
    log.info(`${settings.executable} ${args.join(' ')}`);
    return runCli(settings, args, {
      ...(options.signal ? { signal: options.signal } : {}),
      onLog: (line) => {
        if (line.level === 'error') log.error(line.text);
        else if (line.level === 'warn') log.warn(line.text);
        else log.info(line.text);
        options.onLog?.(line.text, line.progress);
      },
    });
  };
  return { context, log, pool, ports, api, cli, containersChanged };
}

/** A CancellationToken as an AbortSignal, at the edge. */
export function tokenSignal(token: vscode.CancellationToken): AbortSignal {
  const ac = new AbortController();
  if (token.isCancellationRequested) ac.abort();
  token.onCancellationRequested(() => ac.abort());
  return ac.signal;
}
