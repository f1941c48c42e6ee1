/**
 * A client of a shim's attach socket: stdin in, output frames out, resize,
 * signals, and the exit status when the process ends.
 */
import { connect, type Socket } from 'node:net';
import { BerthError } from '../../common/errors';
import { BatchWriter } from '../../common/stream/batch-writer';
import { ClientFrame, encodeFrame, FrameDecoder, parseExit, resizeFrame, ShimFrame, stdinFrames, type ExitStatus } from './protocol';

export interface OutputChunk {
  readonly stream: 'stdout' | 'stderr';
  readonly data: Buffer;
}

/** Output chunks in order; several loops may read it one after another (breaking out of one ends nothing). */
class ChunkQueue {
  private readonly items: OutputChunk[] = [];
  private waiter: (() => void) | undefined;
  private ended = false;

  push(c: OutputChunk): void {
    this.items.push(c);
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  async *iterate(): AsyncGenerator<OutputChunk> {
    for (;;) {
      const item = this.items.shift();
      if (item) yield item;
      else if (this.ended) return;
      else await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }
}

export class AttachClient {
  private readonly queue = new ChunkQueue();
  private exitStatus: ExitStatus | undefined;
  private readonly writer: BatchWriter;
  /** Resolves with the exit status, or undefined when the connection ended without one. */
  readonly exit: Promise<ExitStatus | undefined>;

  private constructor(private readonly socket: Socket) {
    this.writer = new BatchWriter(socket);
    const decoder = new FrameDecoder();
    this.exit = new Promise((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        let frames;
        try {
          frames = decoder.push(chunk);
        } catch {
          socket.destroy();
          return;
        }
        for (const f of frames) {
          if (f.type === ShimFrame.stdout) this.queue.push({ stream: 'stdout', data: Buffer.from(f.payload) });
          else if (f.type === ShimFrame.stderr) this.queue.push({ stream: 'stderr', data: Buffer.from(f.payload) });
          else if (f.type === ShimFrame.exit) this.exitStatus = parseExit(f.payload.toString('utf8'));
        }
      });
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.queue.end();
        resolve(this.exitStatus);
      });
    });
  }

  /** Connects to a shim's attach socket; unavailable when no shim listens there. */
  static connect(socketPath: string, options: { signal?: AbortSignal } = {}): Promise<AttachClient> {
    options.signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      const socket = connect(socketPath);
      const onAbort = (): void => {
        socket.destroy();
        reject(new BerthError('cancelled', 'attach cancelled'));
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () => {
        options.signal?.removeEventListener('abort', onAbort);
        socket.removeAllListeners('error');
        resolve(new AttachClient(socket));
      });
      socket.once('error', (e) => {
        options.signal?.removeEventListener('abort', onAbort);
        reject(new BerthError('unavailable', `no shim listens on ${socketPath}: ${e.message}`, { cause: e }));
      });
    });
  }

  /** The output as it comes; ends when the shim closes the connection. */
  output(): AsyncIterable<OutputChunk> {
    return this.queue.iterate();
  }

  /** Writes to the process's stdin; the pieces of one tick leave in one system call. */
  write(data: Uint8Array): void {
    for (const piece of stdinFrames(data)) this.writer.write(piece);
  }

  /** Half-closes the process's stdin (a tty gets ^D). */
  closeStdin(): void {
    this.socket.write(encodeFrame(ClientFrame.closeStdin));
  }

  resize(rows: number, cols: number): void {
    this.socket.write(resizeFrame(rows, cols));
  }

  /** Signals the shim's process (the exec'd process, or the container's init). */
  kill(signal: number): void {
    this.socket.write(encodeFrame(ClientFrame.signal, Buffer.from([signal & 0xff])));
  }

  /** Flushes what was written and disconnects; the process keeps running. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.end(() => {
        this.socket.destroy();
        resolve();
      });
    });
  }
}

/** True when a shim answers on the socket (it is alive). */
export async function shimAlive(socketPath: string): Promise<boolean> {
  try {
    const c = await AttachClient.connect(socketPath);
    await c.close();
    return true;
  } catch {
    return false;
  }
}
