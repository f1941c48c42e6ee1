/**
 * A per-file mutex: an in-process queue (so writers in this process take
 * turns) plus an O_EXCL lock file holding the owner's pid (so another process
 * on the same store waits too; a lock left by a dead process is taken over).
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rm } from 'node:fs/promises';
import { BerthError } from '../../common/errors';

/** Tells this process's lock files from those of an earlier process that had the same pid. */
const OWNER = `${process.pid} ${randomBytes(8).toString('hex')}`;

export interface Lock {
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      signal?.removeEventListener('abort', aborted);
      resolve();
    }
    function aborted(): void {
      clearTimeout(timer);
      reject(new BerthError('cancelled', 'cancelled while waiting for a lock'));
    }
    signal?.addEventListener('abort', aborted, { once: true });
  });
}

async function lockFile(file: string, signal?: AbortSignal): Promise<void> {
  for (;;) {
    signal?.throwIfAborted();
    try {
      const fh = await open(file, 'wx');
      await fh.writeFile(OWNER);
      await fh.close();
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const content = await readFile(file, 'utf8').catch(() => '');
    const owner = Number.parseInt(content, 10);
    const stale = content !== OWNER && (owner === process.pid || !alive(owner));
    if (content !== '' && Number.isInteger(owner) && owner > 0 && stale) {
      await rm(file, { force: true });
      continue;
    }
    await sleep(25, signal);
  }
}

/** Waits for the lock `file` (queued behind other holders in `queue`), then holds it. */
export async function acquireLock(queue: Map<string, Promise<void>>, file: string, signal?: AbortSignal): Promise<Lock> {
  const previous = queue.get(file) ?? Promise.resolve();
  let releaseQueue: () => void = () => {};
  const mine = new Promise<void>((resolve) => (releaseQueue = resolve));
  const tail = previous.then(() => mine);
  queue.set(file, tail);
  const cleanup = (): void => {
    releaseQueue();
    if (queue.get(file) === tail) queue.delete(file);
  };
  let onAbort: (() => void) | undefined;
  try {
    await Promise.race([
      previous,
      new Promise<never>((_, reject) => {
        onAbort = () => reject(new BerthError('cancelled', 'cancelled while waiting for a lock'));
        if (signal?.aborted) onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
    await lockFile(file, signal);
  } catch (err) {
    cleanup();
    throw err;
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await rm(file, { force: true });
      cleanup();
    },
  };
}
