/**
 * Writes to a stream, gathering everything written in one turn of the event
 * loop into one system call: the stream is corked at the first write and
 * uncorked once the loop has run the I/O callbacks of this turn (setImmediate),
 * so a writev carries it all. Protocol layers write many small pieces (an SSH
 * packet each, a frame header and its payload), and libuv reads at most 64 KiB
 * per callback; gathered, they cost one wakeup of the reader instead of one each.
 */
import type { Writable } from 'node:stream';

export class BatchWriter {
  private corked = false;

  constructor(private readonly out: Writable) {}

  /** Like Writable.write: false when the stream wants the writer to wait for 'drain'. */
  write(chunk: Uint8Array): boolean {
    if (!this.corked && !this.out.writableCorked) {
      this.corked = true;
      this.out.cork();
      setImmediate(() => {
        this.corked = false;
        this.out.uncork();
      });
    }
    return this.out.write(chunk);
  }
}
