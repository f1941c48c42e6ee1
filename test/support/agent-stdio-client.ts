/**
 * The agent of an agent fixture started over its stdio (as an engine exec
 * starts it), with an ssh2 client connected as root through it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Duplex } from 'node:stream';
import { Client } from 'ssh2';
import type { AgentFixture } from './agent-fixture';

export interface StdioAgent {
  readonly client: Client;
  readonly pid: number;
  /** With `pipes`: our ends of the agent's stdin and stdout pipes. */
  readonly pipeFds?: { readonly stdin: number; readonly stdout: number };
  /** Ends the client and kills the agent. */
  stop(): void;
}

/** Two pipes (FIFOs opened at both ends, then unlinked), of the kernel's default size: the agent's stdin and stdout. */
function stdioPipes(): { stdin: [read: number, write: number]; stdout: [read: number, write: number] } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-agent-pipes-'));
  try {
    const pair = (name: string): [number, number] => {
      const fifo = path.join(dir, name);
      execFileSync('mkfifo', [fifo]);
      // Read-write opens of a FIFO do not wait for the other end.
      return [openSync(fifo, 'r+'), openSync(fifo, 'r+')];
    };
    return { stdin: pair('stdin'), stdout: pair('stdout') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
    const { stdin, stdout } = stdioPipes();
    const child = spawn(node, [...nodeFlags, ...args], { stdio: [stdin[0], stdout[1], 'inherit'] });
    closeSync(stdin[0]);
    closeSync(stdout[1]);
    pipeFds = { stdin: stdin[1], stdout: stdout[0] };
    sock = Duplex.from({ readable: new net.Socket({ fd: stdout[0], readable: true, writable: false }), writable: new net.Socket({ fd: stdin[1], readable: false, writable: true }) });
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
