/**
 * A pipe as pipe(2) makes one, for tests and benches that start a process on
 * pipes (node's spawn gives socketpairs): a FIFO opened once for reading and
 * once for writing, then unlinked. The read end is opened first, without
 * waiting for a writer; each end is read-only or write-only, so the reader
 * sees the end of the data once every write end is closed.
 */
import { execFileSync } from 'node:child_process';
import { constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function openPipe(): { read: number; write: number } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-pipe-'));
  try {
    const fifo = path.join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const read = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    return { read, write: openSync(fifo, constants.O_WRONLY) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
