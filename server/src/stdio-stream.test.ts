import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { slabReads } from './slab-reads';
import { StdioStream } from './stdio-stream';

const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-stdio-stream-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A connected unix socket pair in this process: [the end we hold, the other end]; closed after the test. */
async function pair(t: TestContext, name: string, connect: (socketPath: string) => net.Socket): Promise<[net.Socket, net.Socket]> {
  const socketPath = path.join(dir, name);
  const listener = net.createServer();
  await new Promise<void>((resolve) => listener.listen(socketPath, resolve));
  const accepted = new Promise<net.Socket>((resolve) => listener.once('connection', resolve));
  const ours = connect(socketPath);
  const theirs = await accepted;
  t.after(() => {
    ours.destroy();
    theirs.destroy();
    listener.close();
  });
  return [ours, theirs];
}

const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('SSH packets written in one tick leave stdout in one writev, however many fill node\'s 16 KiB buffer', async (t) => {
  // Nothing comes in: this test is about stdout.
  const [input] = await pair(t, 'in.sock', (p) => net.connect({ path: p, onread: slabReads(() => true) }));
  const [output, reader] = await pair(t, 'out.sock', (p) => net.connect({ path: p }));
  // Every call that hands bytes to the kernel: one for a lone chunk, one for a batch.
  const writes: number[] = [];
  const writev = output._writev?.bind(output);
  const write = output._write.bind(output);
  assert.ok(writev);
  output._writev = (chunks, done) => {
    writes.push(chunks.length);
    writev(chunks, done);
  };
  output._write = (chunk, encoding, done) => {
    writes.push(1);
    write(chunk, encoding, done);
  };
  const stream = new StdioStream(() => input, output);
  // As ssh2 writes them: a packet at a time, never waiting for the stream (24 x 32 KiB + a header = 790 KB).
  const packets = Array.from({ length: 24 }, () => randomBytes(32_768 + 29));
  const data = Buffer.concat(packets);
  const got: Buffer[] = [];
  let received = 0;
  const all = new Promise<void>((resolve) =>
    reader.on('data', (chunk: Buffer) => {
      got.push(chunk);
      received += chunk.length;
      if (received >= data.length) resolve();
    }),
  );
  for (const packet of packets) stream.write(packet);
  await all;
  assert.equal(digest(Buffer.concat(got)), digest(data));
  assert.deepEqual(writes, [24]);
});
