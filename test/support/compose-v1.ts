/**
 * Debian's docker-compose (v1.29, Python) for the reference CLI's compose
 * parity tests, without installing it on the host: the .deb files
 * (`apt-get download`, once, cached in ${BERTH_TEST_CACHE}) unpacked with
 * `dpkg -x` and run by Debian's /usr/bin/python3 through a wrapper
 * `docker-compose` on a PATH of the test's own. Or the reason it cannot be.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { run, runChecked } from '../../src/common/process/spawn';
import { cacheRoot } from './test-images';

const PACKAGES = [
  'docker-compose',
  'python3-cached-property',
  'python3-distro',
  'python3-docker',
  'python3-dockerpty',
  'python3-docopt',
  'python3-dotenv',
  'python3-jsonschema',
  'python3-attr',
  'python3-pyrsistent',
  'python3-requests',
  'python3-urllib3',
  'python3-certifi',
  'python3-chardet',
  'python3-charset-normalizer',
  'python3-idna',
  'python3-six',
  'python3-packaging',
  'python3-texttable',
  'python3-websocket',
  'python3-yaml',
];
const PYTHON = '/usr/bin/python3';

/** A folder holding `docker-compose` (put it first on PATH), or why there is none. */
export async function composeV1Bin(): Promise<{ bin?: string; why?: string }> {
  if (!existsSync(PYTHON)) return { why: `${PYTHON} (Debian's python3, which docker-compose v1 runs on) is not installed` };
  const dir = path.join(cacheRoot(), `compose-v1-${createHash('sha256').update(PACKAGES.join(' ')).digest('hex').slice(0, 12)}`);
  const bin = path.join(dir, 'bin');
  if (!existsSync(path.join(bin, 'docker-compose'))) {
    await mkdir(cacheRoot(), { recursive: true });
    const work = await mkdtemp(path.join(cacheRoot(), '.compose-v1-'));
    try {
      const dl = await run(['apt-get', 'download', ...PACKAGES], { cwd: work });
      if (dl.code !== 0) return { why: `apt-get download docker-compose failed: ${dl.stderr.trim().slice(-400)}` };
      for (const deb of (await readdir(work)).filter((f) => f.endsWith('.deb'))) await runChecked(['dpkg-deb', '-x', path.join(work, deb), path.join(work, 'root')]);
      await mkdir(path.join(work, 'bin'));
      const site = path.join(dir, 'root', 'usr', 'lib', 'python3', 'dist-packages');
      await writeFile(path.join(work, 'bin', 'docker-compose'), `#!/bin/sh\nPYTHONPATH=${site} exec ${PYTHON} ${path.join(dir, 'root', 'usr', 'bin', 'docker-compose')} "$@"\n`);
      await chmod(path.join(work, 'bin', 'docker-compose'), 0o755);
      await chmod(work, 0o755);
      await rename(work, dir).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
      });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  const v = await run([path.join(bin, 'docker-compose'), 'version', '--short']);
  if (v.code !== 0) return { why: `docker-compose v1 does not run: ${v.stderr.trim().slice(-400)}` };
  return { bin };
}
