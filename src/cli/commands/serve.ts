/**
 * `berth serve --listen HOST:PORT`: the HTTPS + WebSocket gateway to this
 * machine's engine, with the web dashboard (src/gateway). TLS with
 * --tls-cert/--tls-key, else a self-signed certificate made once in the
 * config folder (clients pin the fingerprint printed). Plain HTTP
 * (--no-tls) only on a loopback address. Prints one JSON result once
 * listening, then serves until stopped.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { enginePaths } from '../../api/engine-paths';
import { parseDuration } from '../../gateway/duration';
import { isLoopback, parseListen } from '../../gateway/listen';
import { tlsIdentity } from '../../gateway/tls';
import { BerthError } from '../../common/errors';
import { stringOption, type Command } from '../command';
import { gatewayActions } from '../gateway-actions';
import { CONFIG_DIR_OPTION, gatewayConfigDir, tokenStore } from '../gateway-config';

/** dist/dashboard beside the bundle (dist/berth.js); from the compiled tree (out/src/cli/commands), the repository's. */
function dashboardDir(): string | undefined {
  return [path.join(__dirname, 'dashboard'), path.resolve(__dirname, '../../../../dist/dashboard')].find((d) => existsSync(path.join(d, 'index.html')));
}

function positiveInt(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new BerthError('invalid_argument', `${what} must be a positive integer (got "${text}")`);
  return n;
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Serve this machine\'s engine to remote CLIs and browsers: HTTPS + WebSocket gateway with tokens and a web dashboard.',
  usage: 'serve [--listen HOST:PORT] [--tls-cert FILE --tls-key FILE | --no-tls] [--idle-timeout DURATION] [--socket PATH] [--config-dir DIR]',
  options: {
    ...CONFIG_DIR_OPTION,
    listen: { type: 'string', valueName: 'HOST:PORT', default: '127.0.0.1:8443', description: 'Address to listen on (port 0: any free port).' },
    socket: { type: 'string', valueName: 'PATH', description: 'API socket of the engine (default /run/berth/berth.sock, or $BERTH_SOCKET).' },
    'tls-cert': { type: 'string', valueName: 'FILE', description: 'PEM certificate (chain) to serve (default: a self-signed one in the config folder).' },
    'tls-key': { type: 'string', valueName: 'FILE', description: 'PEM private key of --tls-cert.' },
    'no-tls': { type: 'boolean', description: 'Plain HTTP: refused unless --listen is a loopback address.' },
    'idle-timeout': { type: 'string', valueName: 'DURATION', default: '30m', description: 'Stop a container after this long with no agent or terminal session and no exec (0: never).' },
    'auth-failures': { type: 'string', valueName: 'N', default: '10', description: 'Failed logins per remote address before it gets 429s...' },
    'auth-window': { type: 'string', valueName: 'DURATION', default: '1m', description: '...within this window.' },
  },
  async run(values, _positionals, ctx) {
    const listen = parseListen(stringOption(values, 'listen') ?? '127.0.0.1:8443');
    const noTls = values['no-tls'] === true;
    if (noTls && (stringOption(values, 'tls-cert') || stringOption(values, 'tls-key'))) throw new BerthError('invalid_argument', '--no-tls excludes --tls-cert/--tls-key');
    if (noTls && !isLoopback(listen.host)) throw new BerthError('failed_precondition', `refusing plain HTTP on ${listen.host}, which is not a loopback address: drop --no-tls (TLS is required off loopback)`);
    const socket = stringOption(values, 'socket') ?? ctx.env['BERTH_SOCKET'];
    const configDir = gatewayConfigDir(values, ctx.env);
    const certFile = stringOption(values, 'tls-cert');
    const keyFile = stringOption(values, 'tls-key');
    const tls = noTls ? undefined : await tlsIdentity({ ...(certFile ? { certFile } : {}), ...(keyFile ? { keyFile } : {}), dir: configDir, hosts: [listen.host], signal: ctx.signal });
    const dashboard = dashboardDir();
    // Loaded here: the gateway brings ws, which no other command needs at start.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { startGateway } = require('../../gateway/gateway') as typeof import('../../gateway/gateway');
    const gateway = await startGateway({
      engineSocket: enginePaths(socket ? { socketPath: socket } : {}).socketPath,
      tokens: tokenStore(values, ctx.env),
      listen,
      ...(tls ? { tls } : {}),
      idleTimeoutMs: parseDuration(stringOption(values, 'idle-timeout') ?? '30m', '--idle-timeout'),
      authFailures: positiveInt(stringOption(values, 'auth-failures') ?? '10', '--auth-failures'),
      authWindowMs: parseDuration(stringOption(values, 'auth-window') ?? '1m', '--auth-window'),
      ...(dashboard ? { dashboardDir: dashboard } : {}),
      actions: gatewayActions(ctx.env, ctx.logger),
      logger: ctx.logger,
    });
    try {
      ctx.result({ outcome: 'success', url: gateway.url, port: gateway.port, tls: Boolean(tls), ...(tls ? { fingerprint: tls.fingerprint, selfSigned: tls.selfSigned, certificate: tls.certFile } : {}), dashboard: Boolean(dashboard) });
      ctx.logger.info(`serving on ${gateway.url}${tls ? ` (certificate SHA-256 ${tls.fingerprint})` : ''}`);
      ctx.logger.info(`clients: berth --host ${gateway.url}${tls?.selfSigned ? ` --tls-fingerprint ${tls.fingerprint}` : ''} --token TOKEN (berth token create --user NAME); browsers: ${gateway.url}/`);
      if (!dashboard) ctx.logger.warn('no dashboard files beside the CLI (run the build): serving the API only');
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
      return 0;
    } finally {
      await gateway.close();
    }
  },
};
