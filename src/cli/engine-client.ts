/** The API client for the engine a command talks to (--host / $BERTH_HOST over SSH or a gateway, --socket, $BERTH_SOCKET, or the default). */
import { ApiClient } from '../api/client';
import { enginePaths } from '../api/engine-paths';
import { stringOption, type OptionSpecs, type ParsedOptions } from './command';
import { gatewayClient, parseGatewayHost, type GatewayTarget } from './gateway-transport';
import { parseSshHost, sshConnector } from './ssh-transport';

export const ENGINE_OPTIONS: OptionSpecs = {
  socket: { type: 'string', valueName: 'PATH', description: 'API socket of the engine (default /run/berth/berth.sock, or $BERTH_SOCKET).' },
  host: { type: 'string', valueName: 'URL', description: 'A remote engine: ssh://user@host[:port][/socket], or a gateway https://host:port (or $BERTH_HOST).' },
  token: { type: 'string', valueName: 'TOKEN', description: 'Token for a gateway --host (or $BERTH_TOKEN).' },
  'tls-fingerprint': { type: 'string', valueName: 'SHA256', description: "The gateway certificate's SHA-256 fingerprint, for a self-signed one (or $BERTH_TLS_FINGERPRINT)." },
  'tls-ca': { type: 'string', valueName: 'FILE', description: "CA certificate(s) that sign the gateway's certificate (or $BERTH_TLS_CA)." },
};

/** The gateway the options point at, if --host is https:// or http://. */
export function gatewayTarget(values: ParsedOptions, env: NodeJS.ProcessEnv): GatewayTarget | undefined {
  const host = stringOption(values, 'host') ?? env['BERTH_HOST'];
  if (!host || !/^https?:\/\//i.test(host)) return undefined;
  const token = stringOption(values, 'token') ?? env['BERTH_TOKEN'];
  const fingerprint = stringOption(values, 'tls-fingerprint') ?? env['BERTH_TLS_FINGERPRINT'];
  const caFile = stringOption(values, 'tls-ca') ?? env['BERTH_TLS_CA'];
  return parseGatewayHost(host, { ...(token ? { token } : {}), ...(fingerprint ? { fingerprint } : {}), ...(caFile ? { caFile } : {}) });
}

export function engineClient(values: ParsedOptions, env: NodeJS.ProcessEnv): ApiClient {
  const gateway = gatewayTarget(values, env);
  if (gateway) return gatewayClient(gateway);
  const host = stringOption(values, 'host') ?? env['BERTH_HOST'];
  if (host) {
    const target = parseSshHost(host);
    return new ApiClient({ socketPath: target.socketPath, connect: sshConnector(target, env), describe: `${target.socketPath} on ${target.host} (over SSH)` });
  }
  const socketPath = stringOption(values, 'socket') ?? env['BERTH_SOCKET'];
  return new ApiClient({ socketPath: enginePaths(socketPath ? { socketPath } : {}).socketPath });
}
