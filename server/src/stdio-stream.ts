/**
 * The agent's stdin and stdout as the one byte stream ssh2 serves. Both are
 * opened as non-blocking sockets on fds 0 and 1 (process.stdout blocks on a
 * full pipe, which would stall the whole agent), and the SSH packets written
 * in one tick leave in one writev.
 */
import { fstatSync } from 'node:fs';
import net from 'node:net';
import { Duplex } from 'node:stream';
import { BatchWriter } from '../../src/common/stream/batch-writer';
import { slabReads } from './slab-reads';
import type { SlabSource } from './slab-source';

/**
 * What stdout queues before the stream waits for it: many SSH packets can
 * then leave in one writev. With node's 16 KiB, every
 * 32 KiB packet waited for the one before it to be written, and data from
 * the container (a forwarded port's replies) left one packet per turn of the
 * event loop, one write each.
 */
const OUTPUT_BUFFER = 1 << 20;

export class StdioStream extends Duplex {
  private readonly writer: BatchWriter;

  private readonly input: net.Socket;

  constructor(
    input: (deliver: (chunk: Buffer) => boolean) => net.Socket,
    private readonly output: net.Socket,
  ) {
    // As much again may wait here: a WebSocketStream writing into this one waits when this says full.
    super({ allowHalfOpen: true, writableHighWaterMark: OUTPUT_BUFFER });
    this.writer = new BatchWriter(output);
    this.input = input((chunk) => this.push(chunk));
    this.input.once('end', () => this.push(null));
    this.input.on('error', (err) => this.destroy(err));
    output.on('error', (err) => this.destroy(err));
  }

  /** Fds 0 and 1 of this process; undefined when either is not a pipe or a socket. */
  static fromProcess(slabs?: SlabSource): StdioStream | undefined {
    const streamy = (fd: number): boolean => {
      const st = fstatSync(fd);
      return st.isFIFO() || st.isSocket();
    };
    if (!streamy(0) || !streamy(1)) return undefined;
    return new StdioStream(
      (deliver) => {
        // net.Socket takes onread for a socket it wraps too; its types say so only for connect().
        const options: net.SocketConstructorOpts & { onread: net.OnReadOpts } = { fd: 0, readable: true, writable: false, onread: slabReads(deliver, slabs) };
        return new net.Socket(options);
      },
      new net.Socket({ fd: 1, readable: false, writable: true }),
    );
  }

  override _read(): void {
    this.input.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.written(this.writer.write(chunk), done);
  }

  override _writev(chunks: { chunk: Buffer }[], done: (err?: Error | null) => void): void {
    let ok = true;
    for (const { chunk } of chunks) ok = this.writer.write(chunk);
    this.written(ok, done);
  }

  /** Goes on until stdout holds OUTPUT_BUFFER (its 'drain' comes once a write said false). */
  private written(ok: boolean, done: (err?: Error | null) => void): void {
    if (ok || this.output.writableLength < OUTPUT_BUFFER) done();
    else this.output.once('drain', () => done());
  }

  override _final(done: (err?: Error | null) => void): void {
    this.output.end(() => done());
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.input.destroy();
    this.output.destroy();
    done(err);
  }
}
