/**
 * The engine the extension talks to, without vscode: the settings' remote
 * host (a `berth serve` gateway or ssh://), else the local socket; the API
 * client is the one the CLI builds for the same --host/--token/TLS.
 */
import type { ApiClient } from '../../../src/api/client';
import { isGatewayHost, targetClient } from '../../../src/api/engine-target';
import type { CliSettings } from '../runner/berth-cli';

export function engineApi(settings: CliSettings, env: NodeJS.ProcessEnv): ApiClient {
  return targetClient({ ...(settings.remote ?? {}), socket: settings.remote?.host ? undefined : settings.socket }, env);
}

/** A short name for the status bar: the remote host's name and port, or undefined for the local engine. */
export function remoteLabel(settings: CliSettings): string | undefined {
  const host = settings.remote?.host;
  if (!host) return undefined;
  try {
    const u = new URL(host);
    return isGatewayHost(host) ? u.host : `${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}`;
  } catch {
    return host;
  }
}
