/** Where the gateway keeps its tokens and self-signed certificate: --config-dir, $BERTH_CONFIG_DIR, or /etc/berth. */
import path from 'node:path';
import { TokenStore } from '../gateway/tokens';
import { stringOption, type OptionSpecs, type ParsedOptions } from './command';

export const CONFIG_DIR_OPTION: OptionSpecs = {
  'config-dir': { type: 'string', valueName: 'DIR', description: "The gateway's folder: tokens.json and its self-signed certificate (default /etc/berth, or $BERTH_CONFIG_DIR)." },
};

export function gatewayConfigDir(values: ParsedOptions, env: NodeJS.ProcessEnv): string {
  return path.resolve(stringOption(values, 'config-dir') ?? env['BERTH_CONFIG_DIR'] ?? '/etc/berth');
}

export function tokenStore(values: ParsedOptions, env: NodeJS.ProcessEnv): TokenStore {
  return new TokenStore(path.join(gatewayConfigDir(values, env), 'tokens.json'));
}
