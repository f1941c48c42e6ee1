/**
 * The agent's direct-tcpip tunnel with an ssh2 client on its stdio: bytes
 * cross intact both ways, whatever way the agent's slab reads cut the SSH
 * packets (server/src/slab-reads.ts) and however its forwarding buffer
 * queues them.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { after, before, test } from 'node:test';
import type { ClientChannel } from 'ssh2';
import { startAgentFixture, type AgentFixture } from './support/agent-fixture';
import { connectStdioAgent, type StdioAgent } from './support/agent-stdio-client';

let agent: AgentFixture;
let stdio: StdioAgent;

before(async () => {
  agent = await startAgentFixture();
  stdio = await connectStdioAgent(agent);
});

after(async () => {
  stdio.stop();
  await agent[Symbol.asyncDispose]();
});

/** A TCP server on loopback for one connection; stopped after the test. */
async function listen(onConnection: (socket: net.Socket) => void): Promise<net.Server> {
  const server = net.createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function forward(port: number): Promise<ClientChannel> {
  return new Promise((resolve, reject) => stdio.client.forwardOut('127.0.0.1', 0, '127.0.0.1', port, (err, channel) => (err ? reject(err) : resolve(channel))));
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('64 MB cross the tunnel to a server and back intact', async (t) => {
  // The server echoes what it gets: the agent reads the client's packets and writes its own to the client.
  const server = await listen((s) => s.pipe(s));
  t.after(() => server.close());
  const channel = await forward((server.address() as net.AddressInfo).port);
  const data = randomBytes(64 << 20);
  const back: Buffer[] = [];
  let received = 0;
  const done = new Promise<void>((resolve, reject) => {
    channel.on('data', (chunk: Buffer) => {
      back.push(chunk);
      received += chunk.length;
      if (received >= data.length) resolve();
    });
    const early = (what: string) => (): void => reject(new Error(`${what} after ${received} of ${data.length} bytes`));
    channel.once('close', early('the channel closed'));
    stdio.client.once('end', early('the agent ended the connection'));
  });
  // Odd-sized writes, so that packets do not line up with them.
  for (let at = 0; at < data.length; at += 1_000_003) channel.write(data.subarray(at, at + 1_000_003));
  await done;
  assert.equal(received, data.length);
  assert.equal(sha256(Buffer.concat(back)), sha256(data));
  channel.end();
});
