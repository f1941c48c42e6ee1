/** A busybox root filesystem from Debian's busybox-static: no libc, no node, just /bin/busybox. */
import { execFile } from 'node:child_process';
import { chmod, mkdir, symlink, writeFile, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export async function makeBusyboxRootfs(rootfs: string): Promise<void> {
  const busybox = (await exec('sh', ['-c', 'command -v busybox'])).stdout.trim();
  for (const d of ['bin', 'etc', 'tmp', 'root', 'home/app', 'proc', 'sys', 'dev']) await mkdir(path.join(rootfs, d), { recursive: true });
  await chmod(path.join(rootfs, 'tmp'), 0o1777);
  await copyFile(busybox, path.join(rootfs, 'bin', 'busybox'));
  await chmod(path.join(rootfs, 'bin', 'busybox'), 0o755);
  const applets = (await exec(busybox, ['--list'])).stdout.split('\n').filter((a) => a && a !== 'busybox');
  await Promise.all(applets.map((a) => symlink('busybox', path.join(rootfs, 'bin', a))));
  await writeFile(path.join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  await writeFile(path.join(rootfs, 'etc', 'group'), 'root:x:0:\napp:x:1000:\nnogroup:x:65534:\n');
}
