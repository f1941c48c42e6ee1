import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { WebSocketStream } from './websocket-stream';

// The agent's side of a WebSocket against the real `ws` client (random masks, as browsers
// and the extension send them), over a unix socket: an echo of everything it receives.
const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-ws-stream-'));
const socketPath = path.join(dir, 'ws.sock');
const server = http.createServer();
const ended: Promise<void>[] = [];

before(async () => {
  server.on('upgrade', (req, socket: net.Socket) => {
    const accept = createHash('sha1').update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    const protocol = req.headers['sec-websocket-protocol']?.split(',')[0]?.trim();
    const stream = new WebSocketStream(socket, { accept, ...(protocol ? { protocol } : {}) });
    stream.on('data', (d: Buffer) => stream.write(d));
    stream.on('error', () => undefined);
    ended.push(new Promise((resolve) => stream.once('end', resolve)));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
});

after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function open(protocol?: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws+unix://${socketPath}:/agent`, protocol ? [protocol] : [], { perMessageDeflate: false });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return ws;
}

/** Everything the echo sends back until `length` bytes came. */
function received(ws: WebSocket, length: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  return new Promise((resolve) => {
    ws.on('message', (data: Buffer, isBinary) => {
      assert.equal(isBinary, true);
      parts.push(data);
      n += data.length;
      if (n >= length) resolve(Buffer.concat(parts));
    });
  });
}

test('masked messages of every length form arrive unmasked, in order; replies are binary messages', async () => {
  const ws = await open('berth-test');
  assert.equal(ws.protocol, 'berth-test');
  const messages = [1, 125, 126, 65535, 65536, 3 * 1024 * 1024].map((n) => randomBytes(n));
  const all = Buffer.concat(messages);
  const back = received(ws, all.length);
  for (const m of messages) ws.send(m);
  assert.ok((await back).equals(all));
  ws.close();
});

test('a fragmented message and a text message arrive as their bytes', async () => {
  const ws = await open();
  const back = received(ws, 9);
  ws.send(Buffer.from('abc'), { fin: false });
  ws.send(Buffer.from('def'), { fin: true });
  ws.send('ghi');
  assert.equal((await back).toString(), 'abcdefghi');
  ws.close();
});

test('a ping gets its pong; a close is echoed and ends the stream', async () => {
  const ws = await open();
  const pong = new Promise<Buffer>((resolve) => ws.once('pong', resolve));
  ws.ping(Buffer.from('are you there'));
  assert.equal((await pong).toString(), 'are you there');
  const count = ended.length;
  const closed = new Promise<number>((resolve) => ws.once('close', resolve));
  ws.close(1000);
  assert.equal(await closed, 1000);
  await ended[count - 1];
});

test('an unmasked frame from the client fails the connection with close code 1002', async () => {
  const key = randomBytes(16).toString('base64');
  const sock = net.connect(socketPath);
  await new Promise((resolve) => sock.once('connect', resolve));
  sock.write(`GET /agent HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`);
  let text = Buffer.alloc(0);
  const answer = new Promise<Buffer>((resolve) => {
    sock.on('data', (d: Buffer) => (text = Buffer.concat([text, d])));
    sock.once('end', () => resolve(text));
  });
  await new Promise((r) => setTimeout(r, 100));
  sock.write(Buffer.from([0x82, 0x03, 0x61, 0x62, 0x63]));
  const all = await answer;
  const head = all.indexOf('\r\n\r\n');
  assert.match(all.subarray(0, head).toString(), /^HTTP\/1.1 101 /);
  assert.deepEqual([...all.subarray(head + 4)], [0x88, 0x02, 0x03, 0xea]);
  sock.destroy();
});
