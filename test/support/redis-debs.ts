/**
 * Debian's Redis (server and redis-cli) as .deb files for a test image's
 * build context: `apt-get download`ed once (the host's apt sources) into
 * ${BERTH_TEST_CACHE}/redis-debs-<hash of the list>, then reused offline.
 * The packages are those the Debian test image (debootstrap minbase) lacks.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { runChecked } from '../../src/common/process/spawn';
import { cacheRoot } from './test-images';

export const REDIS_PACKAGES = ['redis-server', 'redis-tools', 'libjemalloc2', 'liblzf1', 'libatomic1', 'libssl3'] as const;

/** The cached folder of .deb files (downloaded the first time). */
export async function redisDebs(options: { signal?: AbortSignal } = {}): Promise<string> {
  const dir = path.join(cacheRoot(), `redis-debs-${createHash('sha256').update(REDIS_PACKAGES.join(' ')).digest('hex').slice(0, 12)}`);
  if (existsSync(dir) && (await readdir(dir)).filter((f) => f.endsWith('.deb')).length === REDIS_PACKAGES.length) return dir;
  await mkdir(cacheRoot(), { recursive: true });
  const work = await mkdtemp(path.join(cacheRoot(), '.redis-debs-'));
  try {
    await runChecked(['apt-get', 'download', ...REDIS_PACKAGES], { cwd: work, ...options });
    await rename(work, dir).catch((err: NodeJS.ErrnoException) => {
      // Another test process got there first.
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return dir;
}

/** Copies the .deb files into `dest` (a build context's folder). */
export async function copyRedisDebs(dest: string, options: { signal?: AbortSignal } = {}): Promise<void> {
  await cp(await redisDebs(options), dest, { recursive: true });
}
