/**
 * Listening on a root-only unix socket: refuses to start over a live daemon,
 * removes a stale socket, and sets mode 0600.
 */
import { chmod, mkdir, unlink } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { BerthError } from '../../common/errors';

/** True if something accepts connections on the socket. */
export function socketIsLive(socketPath: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = net.connect(socketPath);
    const done = (live: boolean): void => {
      conn.destroy();
      resolve(live);
    };
    conn.setTimeout(timeoutMs, () => done(false));
    conn.once('connect', () => done(true));
    conn.once('error', () => done(false));
  });
}

export async function listenUnix(server: http.Server, socketPath: string): Promise<void> {
  await mkdir(path.dirname(socketPath), { recursive: true, mode: 0o755 });
  if (await socketIsLive(socketPath)) {
    throw new BerthError('already_exists', `another engine is already serving ${socketPath}`);
  }
  await unlink(socketPath).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  // Create the socket with no permissions for others from the first moment.
  const oldMask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(oldMask);
  }
  await chmod(socketPath, 0o600);
}
