/**
 * Reading small files inside an untrusted root filesystem. Every path
 * component is opened relative to its parent directory's descriptor
 * (through /proc/self/fd, Node's stand-in for openat) with O_NOFOLLOW, and
 * symbolic links are resolved by hand against the root, so neither a link
 * nor a concurrent swap can lead outside it. Only regular files are read,
 * never FIFOs or devices, and only up to a size cap.
 */
import { constants } from 'node:fs';
import { lstat, open, readlink, type FileHandle } from 'node:fs/promises';
import { BerthError } from '../../common/errors';

const MAX_LINKS = 40;

function components(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

async function openDir(p: string): Promise<FileHandle> {
  return open(p, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
}

/**
 * Opens `inside` (a path in the container) under `root` for reading.
 * Resolves to undefined when it does not exist or is not a regular file.
 */
export async function openInRoot(root: string, inside: string, options: { signal?: AbortSignal } = {}): Promise<FileHandle | undefined> {
  const stack: FileHandle[] = [await openDir(root)];
  const pending = components(inside);
  let links = 0;
  try {
    while (pending.length > 0) {
      options.signal?.throwIfAborted();
      const part = pending.shift() as string;
      const dir = stack[stack.length - 1] as FileHandle;
      if (part === '..') {
        if (stack.length > 1) await (stack.pop() as FileHandle).close();
        continue;
      }
      const at = `/proc/self/fd/${dir.fd}/${part}`;
      const st = await lstat(at).catch(() => undefined);
      if (!st) return undefined;
      if (st.isSymbolicLink()) {
        if (++links > MAX_LINKS) throw new BerthError('invalid_argument', `too many levels of symbolic links resolving ${inside}`);
        const target = await readlink(at);
        if (target.startsWith('/')) while (stack.length > 1) await (stack.pop() as FileHandle).close();
        pending.unshift(...components(target));
        continue;
      }
      if (pending.length > 0) {
        if (!st.isDirectory()) return undefined;
        stack.push(await openDir(at));
        continue;
      }
      if (!st.isFile()) return undefined;
      // O_NONBLOCK: a FIFO swapped in after the lstat must not block us; fstat checks it is the same file.
      const file = await open(at, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      const fst = await file.stat();
      if (!fst.isFile() || fst.ino !== st.ino || fst.dev !== st.dev) {
        await file.close();
        return undefined;
      }
      return file;
    }
    return undefined;
  } catch (err) {
    if (BerthError.is(err) || (err instanceof Error && err.name === 'AbortError')) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  } finally {
    await Promise.all(stack.map((h) => h.close()));
  }
}

/** The text of a regular file inside `root`, '' when absent; larger than `maxBytes` is an error. */
export async function readFileInRoot(root: string, inside: string, maxBytes: number, options: { signal?: AbortSignal } = {}): Promise<string> {
  const file = await openInRoot(root, inside, options);
  if (!file) return '';
  try {
    const { size } = await file.stat();
    if (size > maxBytes) throw new BerthError('invalid_argument', `${inside} in the image is larger than ${maxBytes} bytes`);
    const buf = Buffer.alloc(size + 1);
    let total = 0;
    for (;;) {
      options.signal?.throwIfAborted();
      const { bytesRead } = await file.read(buf, total, buf.length - total, total);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw new BerthError('invalid_argument', `${inside} in the image is larger than ${maxBytes} bytes`);
      if (total === buf.length) break;
    }
    return buf.subarray(0, total).toString('utf8');
  } finally {
    await file.close();
  }
}
