/**
 * An SSH client (ssh2) to a container's agent for the gateway's terminal and
 * port proxy: connectAgent's, with errors after the handshake left to the caller's 'close'.
 */
import type { Client } from 'ssh2';
import { connectAgent } from '../api/agent-ssh';
import type { ApiClient } from '../api/client';

export async function agentClient(engine: ApiClient, id: string, signal: AbortSignal): Promise<Client> {
  const { client } = await connectAgent(engine, id, { signal });
  client.on('error', () => undefined);
  return client;
}
