import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { slabReads } from './slab-reads';

const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-slab-reads-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A unix socket pair in this process: the server's end, and a client end reading through slabReads; closed after the test. */
async function pair(t: TestContext, name: string, deliver: (chunk: Buffer) => boolean): Promise<{ server: net.Socket; client: net.Socket }> {
  const socketPath = path.join(dir, name);
  const listener = net.createServer();
  await new Promise<void>((resolve) => listener.listen(socketPath, resolve));
  const accepted = new Promise<net.Socket>((resolve) => listener.once('connection', resolve));
  const client = net.connect({ path: socketPath, onread: slabReads(deliver) });
  const server = await accepted;
  t.after(() => {
    client.destroy();
    server.destroy();
    listener.close();
  });
  return { server, client };
}

const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('every read keeps its bytes: 8 MB in writes of odd sizes arrive whole and in order, none overwritten by a later read', async (t) => {
  const chunks: Buffer[] = [];
  const { server, client } = await pair(t, 'order.sock', (chunk) => {
    chunks.push(chunk);
    return true;
  });
  const data = randomBytes(8 << 20);
  const ended = new Promise((resolve) => client.once('end', resolve));
  for (let at = 0, i = 0; at < data.length; i++) {
    const size = [1, 7, 4093, 32_781, 65_536, 300_001][i % 6] ?? 1;
    server.write(data.subarray(at, at + size));
    at += size;
  }
  server.end();
  await ended;
  // Compared only now: a slab handed out twice would have overwritten earlier chunks.
  const got = Buffer.concat(chunks);
  assert.equal(got.length, data.length);
  assert.equal(digest(got), digest(data));
});

test('false from deliver pauses the socket until resume(); what waited meanwhile comes in reads larger than 64 KiB', async (t) => {
  const sizes: number[] = [];
  let paused = false;
  const { server, client } = await pair(t, 'pause.sock', (chunk) => {
    sizes.push(chunk.length);
    if (sizes.length === 1) {
      paused = true;
      return false;
    }
    return true;
  });
  server.write(Buffer.alloc(1));
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(paused, true);
  // The kernel takes what its buffer holds at once (some hundred KiB on Linux); the rest waits in node.
  server.write(Buffer.alloc(2 << 20));
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(sizes, [1], 'nothing is delivered while paused');
  const total = new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (sizes.reduce((a, b) => a + b, 0) === 1 + (2 << 20)) {
        clearInterval(check);
        resolve();
      }
    }, 10);
  });
  client.resume();
  await total;
  assert.ok((sizes[1] ?? 0) > 64 * 1024, `the first read after resume took ${sizes[1]} bytes`);
});
