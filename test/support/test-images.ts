/**
 * Test images built without internet and pushed with skopeo into a test
 * registry: busybox (from Debian's busybox-static) in several flavours, and a
 * minimal Debian bookworm (debootstrap, on request: slow the first time).
 * Layouts are built by scripts/test-images/*.sh and cached in
 * ${BERTH_TEST_CACHE:-/var/cache/berth-test}, keyed by the scripts' content.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { runChecked } from '../../src/common/process/spawn';
import type { Registry } from './registry';

export interface TestImageOptions {
  readonly signal?: AbortSignal;
}

/** References (`127.0.0.1:PORT/busybox:TAG`) of the pushed busybox images. */
export interface TestImages {
  /** OCI media types, gzip layers, 3 layers (rootfs, whiteouts, links). */
  readonly latest: string;
  /** The same image with Docker schema2 media types. */
  readonly docker: string;
  /** OCI media types, zstd layers. */
  readonly zstd: string;
  /** An OCI index: this host's architecture -> `latest`, the other of amd64/arm64 -> a 4-layer variant. */
  readonly multi: string;
  /** The cached OCI layout they came from (tags latest, variant, multi, zstd); read it, never write it. */
  readonly layout: string;
}

export function cacheRoot(): string {
  return process.env.BERTH_TEST_CACHE || '/var/cache/berth-test';
}

function scriptsDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'scripts', 'test-images');
    if (existsSync(path.join(candidate, 'build-busybox.sh'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`scripts/test-images not found above ${__dirname}`);
  }
}

/** Builds (once per content of the build script and busybox binary) the busybox OCI layout; returns its path. */
export async function busyboxLayout(options: TestImageOptions = {}): Promise<string> {
  const scripts = scriptsDir();
  const busybox = (await runChecked(['sh', '-c', 'command -v busybox'], options)).stdout.toString().trim();
  const hash = createHash('sha256');
  for (const file of [path.join(scripts, 'build-busybox.sh'), path.join(scripts, 'make-index.mjs'), busybox]) hash.update(await readFile(file));
  const root = cacheRoot();
  const cached = path.join(root, `busybox-${hash.digest('hex').slice(0, 12)}`);
  const layout = path.join(cached, 'oci');
  if (existsSync(path.join(layout, 'index.json'))) return layout;

  await mkdir(root, { recursive: true });
  const work = await mkdtemp(path.join(root, '.busybox-'));
  try {
    await runChecked([path.join(scripts, 'build-busybox.sh'), path.join(work, 'oci')], options);
    await chmod(work, 0o755);
    try {
      await rename(work, cached);
    } catch (err) {
      // Another test process built it first: use theirs.
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || !existsSync(path.join(layout, 'index.json'))) throw err;
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  // Layouts built by older versions of the script are of no further use, nor
  // are the scratch dirs of builds killed an hour ago or more.
  for (const name of await readdir(root)) {
    const entry = path.join(root, name);
    const stale = /^busybox-[0-9a-f]{12}$/.test(name) ? entry !== cached : name.startsWith('.busybox-') && ((await stat(entry).catch(() => undefined))?.mtimeMs ?? Infinity) < Date.now() - 3600_000;
    if (stale) await rm(entry, { recursive: true, force: true });
  }
  return layout;
}

function skopeoCopy(registry: Registry, source: string, dest: string, extra: readonly string[], options: TestImageOptions): Promise<unknown> {
  const creds = registry.credentials ? ['--dest-creds', `${registry.credentials.username}:${registry.credentials.password}`] : [];
  return runChecked(
    ['skopeo', '--insecure-policy', 'copy', '--quiet', '--retry-times', '2', '--dest-tls-verify=false', ...creds, ...extra, source, `docker://${registry.host}/${dest}`],
    options,
  );
}

/** Builds (cached) and pushes the busybox images into `registry`; pushing again is harmless. */
export async function ensureTestImages(registry: Registry, options: TestImageOptions = {}): Promise<TestImages> {
  const layout = await busyboxLayout(options);
  const ref = (tag: string): string => `${registry.host}/busybox:${tag}`;
  // The first push uploads the blobs; the others reuse them.
  // --preserve-digests: push exactly the layout's manifests and blobs (skopeo would
  // otherwise put gzip blobs the registry already has in place of the zstd ones).
  await skopeoCopy(registry, `oci:${layout}:latest`, 'busybox:latest', ['--preserve-digests'], options);
  await Promise.all([
    skopeoCopy(registry, `oci:${layout}:latest`, 'busybox:docker', ['--format', 'v2s2'], options),
    skopeoCopy(registry, `oci:${layout}:zstd`, 'busybox:zstd', ['--preserve-digests'], options),
    skopeoCopy(registry, `oci:${layout}:multi`, 'busybox:multi', ['--all', '--preserve-digests'], options),
  ]);
  return { latest: ref('latest'), docker: ref('docker'), zstd: ref('zstd'), multi: ref('multi'), layout };
}

/**
 * Builds (cached by the script: ~40 s the first time) and pushes
 * `debian:bookworm` (one layer, OCI media types); returns its reference.
 */
export async function ensureDebianImage(registry: Registry, options: TestImageOptions = {}): Promise<string> {
  // Beside the cache, so that the script can hardlink the cached blobs.
  await mkdir(cacheRoot(), { recursive: true });
  const work = await mkdtemp(path.join(cacheRoot(), '.debian-push-'));
  try {
    const layout = path.join(work, 'oci');
    // BERTH_TEST_CACHE reaches the script through the inherited environment.
    await runChecked([path.join(scriptsDir(), 'build-debian.sh'), layout], options);
    await skopeoCopy(registry, `oci:${layout}:bookworm`, 'debian:bookworm', ['--preserve-digests'], options);
    return `${registry.host}/debian:bookworm`;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** @deprecated use ensureTestImages. */
export const pushTestImages = ensureTestImages;
