/**
 * Copies a readable into a writable like pipe() (backpressure, end), with the
 * chunks read in one tick written in one system call (BatchWriter).
 */
import type { Readable, Writable } from 'node:stream';
import { BatchWriter } from './batch-writer';

export function pump(from: Readable, to: Writable, options: { end?: boolean } = {}): void {
  const writer = new BatchWriter(to);
  let waiting = false;
  from.on('data', (chunk: Buffer) => {
    if (writer.write(chunk) || waiting) return;
    waiting = true;
    from.pause();
    to.once('drain', () => {
      waiting = false;
      from.resume();
    });
  });
  if (options.end !== false) from.once('end', () => to.end());
}
