/**
 * Entry point of the in-container agent: an SSH server on its own stdio.
 *   berth-agent --host-key FILE --authorized-keys FILE
 * (or BERTH_AGENT_HOST_KEY / BERTH_AGENT_AUTHORIZED_KEYS with the contents).
 * With BERTH_AGENT_WEBSOCKET_ACCEPT (and _PROTOCOL), stdio is a client's
 * connection whose WebSocket upgrade the engine read: see websocket-stream.ts.
 * Logs go to stderr; stdout carries only the SSH protocol.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Duplex } from 'node:stream';
import { parseArgs } from 'node:util';
import { createLogger } from '../../src/common/log';
import { createAgentServer, serveStream } from './agent-server';
import { parseAuthorizedKeys } from './auth';
import { IdleMemoryRelease } from './memory-release';
import { loadNativeCalls, NATIVE_MODULE, type NativeCalls } from './native';
import { userContext } from './process-env';
import { HEAP_BLOCK, HEAP_KEEP, SlabSource, youngCollection } from './slab-source';
import { growStdioPipes } from './stdio-pipes';
import { StdioStream } from './stdio-stream';
import { WebSocketStream } from './websocket-stream';

function secret(file: string | undefined, envName: string): string {
  if (file) return readFileSync(file, 'utf8');
  const value = process.env[envName];
  if (!value) throw new Error(`give --${envName === 'BERTH_AGENT_HOST_KEY' ? 'host-key' : 'authorized-keys'} FILE or set ${envName}`);
  return value;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      'host-key': { type: 'string' },
      'authorized-keys': { type: 'string' },
      'log-level': { type: 'string', default: 'warn' },
    },
  });
  const logger = createLogger({ level: values['log-level'] as 'warn', format: 'json', write: (l) => process.stderr.write(l) }, { component: 'agent' });
  const hostKey = Buffer.from(secret(values['host-key'], 'BERTH_AGENT_HOST_KEY'));
  const authorizedKeys = parseAuthorizedKeys(secret(values['authorized-keys'], 'BERTH_AGENT_AUTHORIZED_KEYS'));
  const user = userContext(process.env);
  try {
    process.chdir(user.home);
  } catch {
    /* a home that does not exist: stay where we are */
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- native module, loaded only when a PTY is asked for
  const loadPty = (): typeof import('node-pty') => require('node-pty') as typeof import('node-pty');
  let native: NativeCalls | undefined;
  try {
    native = loadNativeCalls(path.join(__dirname, NATIVE_MODULE));
  } catch (err) {
    // The agent serves without it: it only holds on to more memory, and its stdio pipes keep their size.
    logger.warn('the agent runs without its native module: no memory release when idle, stdio pipes as given', { error: (err as Error).message });
  }
  if (native) {
    growStdioPipes(native, logger);
    if (!native.keepHeap(HEAP_BLOCK, HEAP_KEEP)) logger.debug('malloc took no thresholds: slabs are mapped and unmapped one by one');
  }
  const slabs = new SlabSource(youngCollection());
  const server = createAgentServer({ hostKey, authorizedKeys, user, logger, loadPty, slabs });
  const stdio = StdioStream.fromProcess(slabs) ?? Duplex.from({ readable: process.stdin, writable: process.stdout });
  // The engine may hand over the client's connection itself, upgrade read: then SSH runs in WebSocket messages.
  const accept = process.env['BERTH_AGENT_WEBSOCKET_ACCEPT'];
  const protocol = process.env['BERTH_AGENT_WEBSOCKET_PROTOCOL'];
  const stream = accept ? new WebSocketStream(stdio, { accept, ...(protocol ? { protocol } : {}) }) : stdio;
  stream.on('close', () => process.exit(0));
  stream.on('end', () => setTimeout(() => process.exit(0), 100).unref());
  serveStream(server, stream);
  if (native) {
    const gc = globalThis.gc;
    new IdleMemoryRelease({ calls: native, logger, ...(gc ? { gc: () => gc() } : {}) }).start();
  }
}

try {
  main();
} catch (err) {
  process.stderr.write(`berth-agent: ${(err as Error).message}\n`);
  process.exitCode = 2;
}
