/**
 * The agent's memory through a busy tunnel, run as the engine runs it
 * (AGENT_NODE_FLAGS): its read slabs ask for a scavenge every few MiB
 * (server/src/slab-source.ts), so dead slabs do not pile up between V8's own
 * scavenges. Without that, 128 MB through the tunnel left 37-49 MB of
 * anonymous memory resident; with it, 20-25 MB.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { after, before, test } from 'node:test';
import type { ClientChannel } from 'ssh2';
import { AGENT_NODE_FLAGS } from '../src/engine/agent/bundle';
import { startAgentFixture, type AgentFixture } from './support/agent-fixture';
import { connectStdioAgent, type StdioAgent } from './support/agent-stdio-client';

let agent: AgentFixture;
let stdio: StdioAgent;

before(async () => {
  agent = await startAgentFixture();
  stdio = await connectStdioAgent(agent, AGENT_NODE_FLAGS);
});

after(async () => {
  stdio.stop();
  await agent[Symbol.asyncDispose]();
});

async function anonymousMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/RssAnon:\s+(\d+)/.exec(status)?.[1]) / 1024;
}

test('128 MB through the tunnel leave less than 32 MiB of anonymous memory in the agent', async (t) => {
  let received = 0;
  let sunk!: Promise<void>;
  const server = net.createServer((s) => {
    sunk = new Promise((resolve) => s.on('end', resolve));
    s.on('data', (chunk: Buffer) => (received += chunk.length));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const channel = await new Promise<ClientChannel>((resolve, reject) => stdio.client.forwardOut('127.0.0.1', 0, '127.0.0.1', port, (err, ch) => (err ? reject(err) : resolve(ch))));
  channel.resume();
  const total = 128 << 20;
  const chunk = Buffer.alloc(1 << 20, 1);
  for (let sent = 0; sent < total; sent += chunk.length) {
    if (!channel.write(chunk)) await new Promise((resolve) => channel.once('drain', resolve));
  }
  channel.end();
  await new Promise((resolve) => channel.once('close', resolve));
  await sunk;
  assert.equal(received, total);
  const anon = await anonymousMiB(stdio.pid);
  assert.ok(anon < 32, `the agent holds ${anon.toFixed(1)} MiB of anonymous memory`);
});
