/**
 * Test images built without internet: a busybox image from Debian's
 * busybox-static, as an OCI layout made with umoci, pushed with skopeo into
 * a local registry in several flavours (OCI gzip, Docker schema2, zstd, and a
 * multi-platform index).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeBusyboxRootfs } from './busybox-rootfs';
import type { Registry } from './registry';

const exec = promisify(execFile);

/** Builds an OCI layout with image `busybox:latest` (two layers: the rootfs, then a whiteout layer). */
export async function buildBusyboxLayout(dir: string): Promise<string> {
  const layout = path.join(dir, 'layout');
  await exec('umoci', ['init', '--layout', layout]);
  await exec('umoci', ['new', '--image', `${layout}:latest`]);
  const bundle = path.join(dir, 'bundle');
  await exec('umoci', ['unpack', '--image', `${layout}:latest`, bundle]);
  await makeBusyboxRootfs(path.join(bundle, 'rootfs'));
  await mkdir(path.join(bundle, 'rootfs', 'etc', 'gone'), { recursive: true });
  await writeFile(path.join(bundle, 'rootfs', 'etc', 'gone', 'file'), 'removed in layer 2\n');
  await writeFile(path.join(bundle, 'rootfs', 'etc', 'motd'), 'hello from layer 1\n');
  await exec('umoci', ['repack', '--image', `${layout}:latest`, bundle]);
  await rm(bundle, { recursive: true, force: true });
  // Layer 2: delete a directory (whiteout) and change a file.
  await exec('umoci', ['unpack', '--image', `${layout}:latest`, bundle]);
  await rm(path.join(bundle, 'rootfs', 'etc', 'gone'), { recursive: true });
  await writeFile(path.join(bundle, 'rootfs', 'etc', 'motd'), 'hello from layer 2\n');
  await exec('umoci', ['repack', '--image', `${layout}:latest`, bundle]);
  await exec('umoci', ['config', '--image', `${layout}:latest`, '--config.cmd', 'sh', '--config.env', 'PATH=/bin', '--config.label', 'org.berth.test=busybox']);
  await rm(bundle, { recursive: true, force: true });
  return layout;
}

export interface TestImages {
  readonly latest: string;
  readonly docker: string;
  readonly zstd: string;
}

export async function pushTestImages(registry: Registry): Promise<TestImages> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-images-'));
  try {
    const layout = await buildBusyboxLayout(dir);
    const copy = (dest: string, ...extra: string[]): Promise<unknown> =>
      exec('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', ...extra, `oci:${layout}:latest`, `docker://${registry.host}/${dest}`]);
    await copy('busybox:latest');
    await copy('busybox:docker', '--format', 'v2s2');
    await copy('busybox:zstd', '--dest-compress-format', 'zstd');
    return { latest: `${registry.host}/busybox:latest`, docker: `${registry.host}/busybox:docker`, zstd: `${registry.host}/busybox:zstd` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
