/** Where the engine keeps its state, and the defaults. */
import path from 'node:path';

export const DEFAULT_DATA_ROOT = '/var/lib/berth';
export const DEFAULT_SOCKET = '/run/berth/berth.sock';
export const DEFAULT_EXEC_ROOT = '/run/berth';

export interface EnginePaths {
  readonly dataRoot: string;
  readonly socketPath: string;
  /** Runtime state that must not survive a reboot (runc state, shim sockets). */
  readonly execRoot: string;
  readonly logFile: string;
  readonly pidFile: string;
}

export function enginePaths(options: { dataRoot?: string; socketPath?: string; execRoot?: string } = {}): EnginePaths {
  const dataRoot = path.resolve(options.dataRoot ?? DEFAULT_DATA_ROOT);
  const socketPath = path.resolve(options.socketPath ?? DEFAULT_SOCKET);
  const execRoot = path.resolve(options.execRoot ?? (options.socketPath ? path.dirname(socketPath) : DEFAULT_EXEC_ROOT));
  return { dataRoot, socketPath, execRoot, logFile: path.join(dataRoot, 'berthd.log'), pidFile: path.join(execRoot, 'berthd.pid') };
}
