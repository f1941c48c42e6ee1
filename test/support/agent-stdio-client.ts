/**
 * The agent of an agent fixture started over its stdio (as an engine exec
 * starts it), with an ssh2 client connected as root through it.
 */
import { spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { Duplex } from 'node:stream';
import { Client } from 'ssh2';
import type { AgentFixture } from './agent-fixture';
import { openPipe } from './pipes';

export interface StdioAgent {
  readonly client: Client;
  readonly pid: number;
  /** With `pipes`: our ends of the agent's stdin and stdout pipes. */
  readonly pipeFds?: { readonly stdin: number; readonly stdout: number };
  /** Ends the client and kills the agent. */
  stop(): void;
}

/**
 * `nodeFlags` go before the agent's script (e.g. the engine's AGENT_NODE_FLAGS). The agent's stdio is
 * node's socketpairs, or with `pipes` two pipes, as the engine's shim gives an exec.
 */
export async function connectStdioAgent(agent: AgentFixture, nodeFlags: readonly string[] = [], options: { pipes?: boolean } = {}): Promise<StdioAgent> {
  const [node = '', ...args] = agent.agentArgv;
  let sock: Duplex;
  let pid: number;
  let kill: () => void;
  let pipeFds: StdioAgent['pipeFds'];
  if (options.pipes) {
    const stdin = openPipe();
    const stdout = openPipe();
    const child = spawn(node, [...nodeFlags, ...args], { stdio: [stdin.read, stdout.write, 'inherit'] });
    closeSync(stdin.read);
    closeSync(stdout.write);
    pipeFds = { stdin: stdin.write, stdout: stdout.read };
    sock = Duplex.from({ readable: new net.Socket({ fd: stdout.read, readable: true, writable: false }), writable: new net.Socket({ fd: stdin.write, readable: false, writable: true }) });
    pid = child.pid ?? 0;
    kill = () => child.kill();
  } else {
    const child = spawn(node, [...nodeFlags, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    sock = Duplex.from({ readable: child.stdout, writable: child.stdin });
    pid = child.pid ?? 0;
    kill = () => child.kill();
  }
  const client = new Client();
  const privateKey = await readFile(agent.clientKey);
  await new Promise<void>((resolve, reject) => {
    client.once('ready', resolve).once('error', reject);
    client.connect({ sock, username: 'root', privateKey, hostVerifier: () => true });
  });
  return {
    client,
    pid,
    ...(pipeFds ? { pipeFds } : {}),
    stop: () => {
      client.end();
      kill();
      sock.destroy();
    },
  };
}
