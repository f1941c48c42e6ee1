/**
 * Reads of a socket into slabs of 1 MiB instead of node's 64 KiB buffers: a
 * read takes what the kernel holds up to the rest of the slab, and the next
 * read goes on where it stopped (a new slab once less than 64 KiB is left).
 * Fewer read calls, and SSH packets (32 KiB and a few bytes) are seldom
 * split between two reads, which ssh2 must copy back together.
 */
import type { OnReadOpts } from 'node:net';
import { SLAB, SlabSource } from './slab-source';

const MIN_READ = 64 * 1024;

/** The `onread` option of a net.Socket that hands each read to `deliver` (false: pause the socket). */
export function slabReads(deliver: (chunk: Buffer) => boolean, slabs = new SlabSource()): OnReadOpts {
  let slab = slabs.take();
  let used = 0;
  return {
    buffer: () => {
      if (SLAB - used < MIN_READ) {
        slab = slabs.take();
        used = 0;
      }
      return slab.subarray(used);
    },
    callback: (bytes: number, buf: Uint8Array) => {
      used += bytes;
      return deliver(Buffer.from(buf.buffer, buf.byteOffset, bytes));
    },
  };
}
