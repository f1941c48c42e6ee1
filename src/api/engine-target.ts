/**
 * Which engine a client talks to, and the ApiClient for it: a gateway
 * (https:// or http:// host, token, TLS pin or CA), an engine socket over
 * SSH (ssh:// host), or a local socket. Shared by the CLI (--host/--token/...
 * and $BERTH_HOST/...) and the extension (its berth.host settings).
 */
import { ApiClient } from './client';
import { enginePaths } from './engine-paths';
import { gatewayClient, parseGatewayHost, type GatewayTarget } from './gateway-transport';
import { parseSshHost, sshConnector } from './ssh-transport';

export interface EngineTarget {
  /** ssh://user@host[:port][/socket] or a gateway's https://host:port; undefined: a local socket. */
  readonly host?: string | undefined;
  readonly token?: string | undefined;
  /** The gateway certificate's SHA-256 fingerprint (self-signed gateways). */
  readonly tlsFingerprint?: string | undefined;
  /** A file of CA certificates that sign the gateway's certificate. */
  readonly tlsCa?: string | undefined;
  /** The local engine socket, when no host is set. */
  readonly socket?: string | undefined;
}

/** The target's fields not given, from $BERTH_HOST, $BERTH_TOKEN, $BERTH_TLS_FINGERPRINT, $BERTH_TLS_CA and $BERTH_SOCKET. */
export function withEnvDefaults(t: EngineTarget, env: NodeJS.ProcessEnv): EngineTarget {
  const pick = (v: string | undefined, name: string): string | undefined => v || env[name] || undefined;
  return {
    host: pick(t.host, 'BERTH_HOST'),
    token: pick(t.token, 'BERTH_TOKEN'),
    tlsFingerprint: pick(t.tlsFingerprint, 'BERTH_TLS_FINGERPRINT'),
    tlsCa: pick(t.tlsCa, 'BERTH_TLS_CA'),
    socket: pick(t.socket, 'BERTH_SOCKET'),
  };
}

export const isGatewayHost = (host: string | undefined): host is string => !!host && /^https?:\/\//i.test(host);

/** The gateway the target points at, if its host is https:// or http://. */
export function targetGateway(t: EngineTarget): GatewayTarget | undefined {
  if (!isGatewayHost(t.host)) return undefined;
  return parseGatewayHost(t.host, { ...(t.token ? { token: t.token } : {}), ...(t.tlsFingerprint ? { fingerprint: t.tlsFingerprint } : {}), ...(t.tlsCa ? { caFile: t.tlsCa } : {}) });
}

/** The API client for the target (env: the SSH agent, identity and known_hosts for an ssh:// host). */
export function targetClient(t: EngineTarget, env: NodeJS.ProcessEnv): ApiClient {
  const gateway = targetGateway(t);
  if (gateway) return gatewayClient(gateway);
  if (t.host) {
    const ssh = parseSshHost(t.host);
    return new ApiClient({ socketPath: ssh.socketPath, connect: sshConnector(ssh, env), describe: `${ssh.socketPath} on ${ssh.host} (over SSH)` });
  }
  return new ApiClient({ socketPath: enginePaths(t.socket ? { socketPath: t.socket } : {}).socketPath });
}
