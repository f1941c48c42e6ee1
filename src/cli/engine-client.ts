/** The API client for the engine a command talks to (--host / $BERTH_HOST over SSH, --socket, $BERTH_SOCKET, or the default). */
import { ApiClient } from '../api/client';
import { enginePaths } from '../api/engine-paths';
import { stringOption, type OptionSpecs, type ParsedOptions } from './command';
import { parseSshHost, sshConnector } from './ssh-transport';

export const ENGINE_OPTIONS: OptionSpecs = {
  socket: { type: 'string', valueName: 'PATH', description: 'API socket of the engine (default /run/berth/berth.sock, or $BERTH_SOCKET).' },
  host: { type: 'string', valueName: 'URL', description: 'A remote engine: ssh://user@host[:port][/socket] (or $BERTH_HOST).' },
};

export function engineClient(values: ParsedOptions, env: NodeJS.ProcessEnv): ApiClient {
  const host = stringOption(values, 'host') ?? env['BERTH_HOST'];
  if (host) {
    const target = parseSshHost(host);
    return new ApiClient({ socketPath: target.socketPath, connect: sshConnector(target, env), describe: `${target.socketPath} on ${target.host} (over SSH)` });
  }
  const socketPath = stringOption(values, 'socket') ?? env['BERTH_SOCKET'];
  return new ApiClient({ socketPath: enginePaths(socketPath ? { socketPath } : {}).socketPath });
}
