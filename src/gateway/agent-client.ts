/**
 * An SSH client (ssh2) to a container's agent, over the engine's agent
 * WebSocket, with the container's key, checking the agent's host key.
 * (The CLI has its own in src/cli/ssh-client.ts; the gateway layer does not
 * import the CLI.)
 */
import type { Client, ParsedKey } from 'ssh2';
import { openAgentStream } from '../api/agent-stream';
import type { ApiClient } from '../api/client';
import { BerthError } from '../common/errors';
import { loadSsh2 } from '../common/load-ssh2';


export async function agentClient(engine: ApiClient, id: string, signal: AbortSignal): Promise<Client> {
  const credentials = await engine.call('containerAgentCredentials', { params: { id }, signal });
  const stream = await openAgentStream(engine, credentials.id, { signal });
  const ssh2 = await loadSsh2();
  const parsed = ssh2.utils.parseKey(credentials.hostPublicKey);
  if (parsed instanceof Error) throw new BerthError('internal', `the engine sent an invalid host key: ${parsed.message}`);
  const expected = (Array.isArray(parsed) ? (parsed[0] as ParsedKey) : parsed).getPublicSSH();
  const client = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', (err) => reject(new BerthError('unavailable', `SSH to ${credentials.name} failed: ${err.message}`, { cause: err })));
    client.connect({ sock: stream, username: credentials.user, privateKey: credentials.clientKey, hostVerifier: (key: Buffer) => key.equals(expected), readyTimeout: 30_000, keepaliveInterval: 15_000 });
  });
  client.on('error', () => undefined);
  return client;
}

