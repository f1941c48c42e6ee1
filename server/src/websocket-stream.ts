/**
 * The server side of a WebSocket (RFC 6455) on a raw connection the engine
 * handed to the agent after reading the upgrade request: the agent answers
 * "101 Switching Protocols" itself, then the stream carries the payload of
 * the client's messages (binary or text, as bytes) and sends its own writes
 * as binary messages. Pings are answered, a close is echoed; no extensions.
 * So the tunnel's bytes go from the client's socket straight into the agent,
 * never through the engine.
 */
import { Duplex } from 'node:stream';
import { BatchWriter } from '../../src/common/stream/batch-writer';

const OP = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;
/** As the engine's WebSocket server allows. */
const MAX_PAYLOAD = 64 * 1024 * 1024;

export interface Handshake {
  /** Sec-WebSocket-Accept for the client's key. */
  readonly accept: string;
  /** The subprotocol to confirm, if the client asked for one. */
  readonly protocol?: string;
}

/** XORs data with the 4-byte mask, starting at mask byte `offset`, in place. */
function unmask(data: Buffer, mask: Buffer, offset: number): void {
  const m = [mask[offset & 3] ?? 0, mask[(offset + 1) & 3] ?? 0, mask[(offset + 2) & 3] ?? 0, mask[(offset + 3) & 3] ?? 0];
  for (let i = 0; i < data.length; i++) data[i] = (data[i] ?? 0) ^ (m[i & 3] ?? 0);
}

function frameHeader(opcode: number, length: number): Buffer {
  if (length < 126) return Buffer.from([0x80 | opcode, length]);
  if (length < 65536) {
    const h = Buffer.allocUnsafe(4);
    h[0] = 0x80 | opcode;
    h[1] = 126;
    h.writeUInt16BE(length, 2);
    return h;
  }
  const h = Buffer.allocUnsafe(10);
  h[0] = 0x80 | opcode;
  h[1] = 127;
  h.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
  h.writeUInt32BE(length >>> 0, 6);
  return h;
}

export class WebSocketStream extends Duplex {
  private readonly writer: BatchWriter;
  private pending: Buffer = Buffer.alloc(0);
  /** The frame being read: its opcode, mask, and payload bytes still to come. */
  private frame: { opcode: number; mask: Buffer | undefined; left: number; seen: number; control: Buffer[] } | undefined;
  private closing = false;

  constructor(
    private readonly socket: Duplex,
    handshake: Handshake,
  ) {
    super({ allowHalfOpen: false });
    this.writer = new BatchWriter(socket);
    const protocol = handshake.protocol ? `Sec-WebSocket-Protocol: ${handshake.protocol}\r\n` : '';
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${handshake.accept}\r\n${protocol}\r\n`);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.once('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.once('close', () => this.destroy());
  }

  private receive(chunk: Buffer): void {
    let data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    while (data.length > 0 && !this.destroyed) {
      if (!this.frame) {
        const head = this.parseHeader(data);
        if (head === undefined) {
          this.pending = data;
          return;
        }
        if (head === null) return;
        data = data.subarray(head.size);
        this.frame = { opcode: head.opcode, mask: head.mask, left: head.length, seen: 0, control: [] };
      }
      const f = this.frame;
      const part = data.subarray(0, Math.min(f.left, data.length));
      data = data.subarray(part.length);
      if (f.mask && f.mask.readUInt32BE(0) !== 0) unmask(part, f.mask, f.seen);
      f.left -= part.length;
      f.seen += part.length;
      if (f.opcode >= OP.close) f.control.push(part);
      else if (part.length > 0 && !this.push(part)) this.socket.pause();
      if (f.left === 0) {
        this.frame = undefined;
        if (f.opcode >= OP.close) this.control(f.opcode, Buffer.concat(f.control));
      }
    }
  }

  /** The frame header at the start of data: undefined when incomplete, null when the connection was failed. */
  private parseHeader(data: Buffer): { opcode: number; mask: Buffer | undefined; length: number; size: number } | undefined | null {
    if (data.length < 2) return undefined;
    const b0 = data[0] ?? 0;
    const b1 = data[1] ?? 0;
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    let length = b1 & 0x7f;
    let size = 2;
    if (length === 126) {
      if (data.length < 4) return undefined;
      length = data.readUInt16BE(2);
      size = 4;
    } else if (length === 127) {
      if (data.length < 10) return undefined;
      length = data.readUInt32BE(2) * 2 ** 32 + data.readUInt32BE(6);
      size = 10;
    }
    if (masked) {
      if (data.length < size + 4) return undefined;
      size += 4;
    }
    const known = opcode <= OP.binary || (opcode >= OP.close && opcode <= OP.pong);
    if ((b0 & 0x70) !== 0 || !known || !masked || (opcode >= OP.close && length > 125)) return this.fail(1002);
    if (length > MAX_PAYLOAD) return this.fail(1009);
    return { opcode, mask: masked ? Buffer.from(data.subarray(size - 4, size)) : undefined, length, size };
  }

  private control(opcode: number, payload: Buffer): void {
    if (opcode === OP.ping) this.send(OP.pong, payload);
    else if (opcode === OP.close) {
      if (!this.closing) this.send(OP.close, payload.subarray(0, 2));
      this.closing = true;
      this.socket.end();
      this.push(null);
    }
  }

  /** Fails the connection: a close frame with the code, then the end. */
  private fail(code: number): null {
    const body = Buffer.alloc(2);
    body.writeUInt16BE(code);
    this.send(OP.close, body);
    this.closing = true;
    this.socket.end();
    this.destroy(new Error(`WebSocket protocol error (close ${code})`));
    return null;
  }

  private send(opcode: number, payload: Buffer): boolean {
    this.writer.write(frameHeader(opcode, payload.length));
    return payload.length === 0 || this.writer.write(payload);
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.closing) return done();
    if (this.send(OP.binary, chunk)) done();
    else this.socket.once('drain', () => done());
  }

  override _final(done: (err?: Error | null) => void): void {
    if (!this.closing) this.send(OP.close, Buffer.from([0x03, 0xe8]));
    this.closing = true;
    this.socket.end(() => done());
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.socket.destroy();
    done(err);
  }
}
