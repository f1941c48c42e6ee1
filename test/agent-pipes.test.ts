/**
 * The agent started over pipes (as the engine's shim starts an exec, or any
 * other launcher would) makes them 1 MiB: with 64 KiB pipes a tunnel's client
 * and agent wake each other for every 64 KiB (server/src/stdio-pipes.ts).
 */
import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { ClientChannel } from 'ssh2';
import { loadNativeCalls, NATIVE_MODULE, type NativeCalls } from '../server/src/native';
import { growStdioPipes, STDIO_PIPE_BYTES } from '../server/src/stdio-pipes';
import { createLogger } from '../src/common/log';
import { AGENT_NODE_FLAGS } from '../src/engine/agent/bundle';
import { startAgentFixture, type AgentFixture } from './support/agent-fixture';
import { connectStdioAgent, type StdioAgent } from './support/agent-stdio-client';
import { openPipe } from './support/pipes';
import { repoRoot } from './support/repo';

let agent: AgentFixture;
let stdio: StdioAgent;
let calls: NativeCalls;

before(async () => {
  calls = loadNativeCalls(path.join(repoRoot(), 'dist', NATIVE_MODULE));
  agent = await startAgentFixture();
  stdio = await connectStdioAgent(agent, AGENT_NODE_FLAGS, { pipes: true });
});

after(async () => {
  stdio.stop();
  await agent[Symbol.asyncDispose]();
});

test('the agent grows the 64 KiB pipes it was started with to 1 MiB, and serves through them', async () => {
  const fds = stdio.pipeFds;
  assert.ok(fds);
  assert.equal(calls.pipeSize(fds.stdin), STDIO_PIPE_BYTES);
  assert.equal(calls.pipeSize(fds.stdout), STDIO_PIPE_BYTES);
  // A tunnel of 32 MiB both ways through the grown pipes, byte for byte.
  const server = net.createServer((s) => s.pipe(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const channel = await new Promise<ClientChannel>((resolve, reject) => stdio.client.forwardOut('127.0.0.1', 0, '127.0.0.1', port, (err, ch) => (err ? reject(err) : resolve(ch))));
    const sent = Buffer.alloc(32 << 20);
    for (let i = 0; i < sent.length; i += 4) sent.writeUInt32LE(i, i);
    const chunks: Buffer[] = [];
    channel.on('data', (d: Buffer) => chunks.push(d));
    const closed = new Promise((resolve) => channel.once('close', resolve));
    channel.end(sent);
    await closed;
    assert.ok(Buffer.concat(chunks).equals(sent), 'the echo differs from what was sent');
  } finally {
    server.close();
  }
});

test('growStdioPipes grows pipes only, leaves big ones and sockets alone, and reports a refusal', async () => {
  const records: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'debug', format: 'json', write: (line) => records.push(JSON.parse(line) as Record<string, unknown>) });
  const { read: small, write: smallWrite } = openPipe();
  const { read: big, write: bigWrite } = openPipe();
  assert.equal(calls.setPipeSize(big, STDIO_PIPE_BYTES), STDIO_PIPE_BYTES);
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const socket = await new Promise<net.Socket>((resolve) => {
    const s = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1', () => resolve(s));
  });
  const socketFd = (socket as unknown as { _handle: { fd: number } })._handle.fd;
  try {
    const before = calls.pipeSize(small);
    assert.ok(before > 0 && before < STDIO_PIPE_BYTES, `a new pipe holds ${before} bytes`);
    // A file and a socket: not pipes, not grown.
    const file = openSync(path.join(repoRoot(), 'package.json'), 'r');
    try {
      assert.deepEqual(growStdioPipes(calls, logger, [small, big, file, socketFd]), [{ fd: small, from: before, to: STDIO_PIPE_BYTES }]);
      assert.equal(calls.pipeSize(small), STDIO_PIPE_BYTES);
      assert.equal(calls.pipeSize(big), STDIO_PIPE_BYTES);
      assert.equal(calls.pipeSize(socketFd), -9);
      // F_GETPIPE_SZ of what is not a pipe: EBADF.
      assert.equal(calls.pipeSize(file), -9);
    } finally {
      closeSync(file);
    }
    // The kernel refuses (as it does past /proc/sys/fs/pipe-max-size without CAP_SYS_RESOURCE): the pipe keeps its size.
    const { read: other, write: otherWrite } = openPipe();
    const refused = growStdioPipes({ pipeSize: (fd) => calls.pipeSize(fd), setPipeSize: () => -1 }, logger, [other]);
    assert.deepEqual(refused, [{ fd: other, from: before, to: before }]);
    assert.equal(records.filter((r) => r['msg'] === 'stdio pipe kept its size' && r['errno'] === 1).length, 1, JSON.stringify(records));
    closeSync(other);
    closeSync(otherWrite);
    assert.throws(() => calls.setPipeSize(small, 0), TypeError);
    assert.throws(() => calls.pipeSize(-1), TypeError);
    assert.throws(() => calls.pipeSize(1.5), TypeError);
  } finally {
    for (const fd of [small, smallWrite, big, bigWrite]) closeSync(fd);
    socket.destroy();
    server.close();
  }
});
