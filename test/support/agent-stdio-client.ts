/**
 * The agent of an agent fixture started over its stdio (as an engine exec
 * starts it), with an ssh2 client connected as root through it.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { Duplex } from 'node:stream';
import { Client } from 'ssh2';
import type { AgentFixture } from './agent-fixture';

export interface StdioAgent {
  readonly client: Client;
  readonly pid: number;
  /** Ends the client and kills the agent. */
  stop(): void;
}

/** `nodeFlags` go before the agent's script (e.g. the engine's AGENT_NODE_FLAGS). */
export async function connectStdioAgent(agent: AgentFixture, nodeFlags: readonly string[] = []): Promise<StdioAgent> {
  const [node = '', ...args] = agent.agentArgv;
  const child = spawn(node, [...nodeFlags, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const client = new Client();
  const privateKey = await readFile(agent.clientKey);
  await new Promise<void>((resolve, reject) => {
    client.once('ready', resolve).once('error', reject);
    client.connect({ sock: Duplex.from({ readable: child.stdout, writable: child.stdin }), username: 'root', privateKey, hostVerifier: () => true });
  });
  return {
    client,
    pid: child.pid ?? 0,
    stop: () => {
      client.end();
      child.kill();
    },
  };
}
