/**
 * Grows the agent's stdio pipes to 1 MiB. With a pipe's default 64 KiB,
 * the client and the agent wake each other for every 64 KiB of a
 * tunnel; the engine's shim makes its exec pipes 1 MiB for this reason
 * (src/engine/shim/berth-shim.c), and the agent does the same for pipes it
 * was started with by anything else. Sockets are left as they are.
 *
 * Measured with bench/agent.mjs (stdio mode, interleaved rounds): 1 MiB pipes
 * carried 456-579 MB/s where 64 KiB pipes carried 313 and node's socketpairs 341-535.
 */
import { fstatSync } from 'node:fs';
import type { Logger } from '../../src/common/log';
import type { NativeCalls } from './native';

export const STDIO_PIPE_BYTES = 1 << 20;

export interface PipeGrowth {
  readonly fd: number;
  /** The pipe's size before, in bytes. */
  readonly from: number;
  /** Its size now, in bytes (from again when the kernel refused: over /proc/sys/fs/pipe-max-size, or the user's pipe quota). */
  readonly to: number;
}

/** Grows fds 0 and 1 where they are pipes smaller than STDIO_PIPE_BYTES; what it did, fd by fd. */
export function growStdioPipes(calls: Pick<NativeCalls, 'pipeSize' | 'setPipeSize'>, logger: Logger, fds: readonly number[] = [0, 1]): PipeGrowth[] {
  const grown: PipeGrowth[] = [];
  for (const fd of fds) {
    let isPipe = false;
    try {
      isPipe = fstatSync(fd).isFIFO();
    } catch {
      /* a closed fd: nothing to grow */
    }
    if (!isPipe) continue;
    const from = calls.pipeSize(fd);
    if (from < 0 || from >= STDIO_PIPE_BYTES) continue;
    const to = calls.setPipeSize(fd, STDIO_PIPE_BYTES);
    if (to < 0) logger.debug('stdio pipe kept its size', { fd, bytes: from, errno: -to });
    grown.push({ fd, from, to: to < 0 ? from : to });
  }
  return grown;
}
