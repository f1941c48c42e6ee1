/** The API client for the engine a command talks to (--host / $BERTH_HOST over SSH or a gateway, --socket, $BERTH_SOCKET, or the default). */
import type { ApiClient } from '../api/client';
import { targetClient, targetGateway, withEnvDefaults, type EngineTarget } from '../api/engine-target';
import type { GatewayTarget } from '../api/gateway-transport';
import { stringOption, type OptionSpecs, type ParsedOptions } from './command';

export const ENGINE_OPTIONS: OptionSpecs = {
  socket: { type: 'string', valueName: 'PATH', description: 'API socket of the engine (default /run/berth/berth.sock, or $BERTH_SOCKET).' },
  host: { type: 'string', valueName: 'URL', description: 'A remote engine: ssh://user@host[:port][/socket], or a gateway https://host:port (or $BERTH_HOST).' },
  token: { type: 'string', valueName: 'TOKEN', description: 'Token for a gateway --host (or $BERTH_TOKEN).' },
  'tls-fingerprint': { type: 'string', valueName: 'SHA256', description: "The gateway certificate's SHA-256 fingerprint, for a self-signed one (or $BERTH_TLS_FINGERPRINT)." },
  'tls-ca': { type: 'string', valueName: 'FILE', description: "CA certificate(s) that sign the gateway's certificate (or $BERTH_TLS_CA)." },
};

/** The engine the options (then the environment) point at. */
export function engineTarget(values: ParsedOptions, env: NodeJS.ProcessEnv): EngineTarget {
  return withEnvDefaults(
    {
      host: stringOption(values, 'host'),
      token: stringOption(values, 'token'),
      tlsFingerprint: stringOption(values, 'tls-fingerprint'),
      tlsCa: stringOption(values, 'tls-ca'),
      socket: stringOption(values, 'socket'),
    },
    env,
  );
}

/** The gateway the options point at, if --host is https:// or http://. */
export function gatewayTarget(values: ParsedOptions, env: NodeJS.ProcessEnv): GatewayTarget | undefined {
  return targetGateway(engineTarget(values, env));
}

export function engineClient(values: ParsedOptions, env: NodeJS.ProcessEnv): ApiClient {
  return targetClient(engineTarget(values, env), env);
}
