/** The API client for the engine a command talks to (--socket, $BERTH_SOCKET, or the default). */
import { ApiClient } from '../api/client';
import { enginePaths } from '../api/engine-paths';
import { stringOption, type OptionSpecs, type ParsedOptions } from './command';

export const ENGINE_OPTIONS: OptionSpecs = {
  socket: { type: 'string', valueName: 'PATH', description: 'API socket of the engine (default /run/berth/berth.sock, or $BERTH_SOCKET).' },
};

export function engineClient(values: ParsedOptions, env: NodeJS.ProcessEnv): ApiClient {
  const socketPath = stringOption(values, 'socket') ?? env['BERTH_SOCKET'];
  return new ApiClient({ socketPath: enginePaths(socketPath ? { socketPath } : {}).socketPath });
}
