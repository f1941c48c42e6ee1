/**
 * An SSH client (ssh2) to a container's agent, over the engine's agent
 * WebSocket, authenticated with the container's key and checking the
 * agent's host key. ssh2 loads on first use: other commands start faster.
 */
import type { Client, ParsedKey } from 'ssh2';
import type { ApiClient } from './client';
import { openAgentStream } from './agent-stream';
import type { AgentCredentials } from './routes';
import { BerthError } from '../common/errors';
import { loadSsh2 } from '../common/load-ssh2';
import { preferClear } from '../common/ssh-clear';

export interface AgentSsh {
  readonly client: Client;
  readonly credentials: AgentCredentials;
  /** The cipher of the client's packets: "none" over the engine's local socket (src/common/ssh-clear.ts). */
  readonly cipher: string;
}

function publicBlob(utils: typeof import('ssh2').utils, line: string): Buffer {
  const parsed = utils.parseKey(line);
  if (parsed instanceof Error) throw new BerthError('internal', `the engine sent an invalid host key: ${parsed.message}`);
  return (Array.isArray(parsed) ? (parsed[0] as ParsedKey) : parsed).getPublicSSH();
}

export interface ConnectAgentOptions {
  readonly signal?: AbortSignal;
  /** Encrypted even on the engine's local socket (bench/agent.mjs compares the two). */
  readonly encrypt?: boolean;
}

export async function connectAgent(api: ApiClient, container: string, options: ConnectAgentOptions = {}): Promise<AgentSsh> {
  const credentials = await api.call('containerAgentCredentials', { params: { id: container }, ...(options.signal ? { signal: options.signal } : {}) });
  const stream = await openAgentStream(api, credentials.id, options);
  const ssh2 = await loadSsh2();
  const expected = publicBlob(ssh2.utils, credentials.hostPublicKey);
  const client = new ssh2.Client();
  let cipher = '';
  client.once('handshake', (negotiated) => (cipher = negotiated.cs.cipher));
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', (err) => reject(new BerthError('unavailable', `SSH to ${credentials.name} failed: ${err.message}`, { cause: err })));
    client.connect({
      sock: stream,
      username: credentials.user,
      privateKey: credentials.clientKey,
      hostVerifier: (key: Buffer) => key.equals(expected),
      readyTimeout: 30_000,
      keepaliveInterval: 15_000,
      // The engine's local socket: the connection is private already. Over a gateway or an SSH channel: encrypted.
      ...(api.connect || options.encrypt ? {} : { algorithms: preferClear() }),
    });
  });
  return { client, credentials, cipher };
}
