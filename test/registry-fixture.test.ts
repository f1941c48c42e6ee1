/**
 * The test registry and test images: a real docker-registry on 127.0.0.1,
 * images pushed by skopeo, checked with skopeo and over the distribution API.
 * Needs root, docker-registry, skopeo, umoci, busybox-static (and debootstrap
 * plus the Debian mirror for the Debian image).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import { extract, type Header } from 'tar-stream';
import { run, runChecked } from '../src/common/process/spawn';
import { startRegistry, type Credentials, type Registry } from './support/registry';
import { cacheRoot, ensureDebianImage, ensureTestImages, type TestImages } from './support/test-images';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const HOST_ARCH = process.arch === 'arm64' ? 'arm64' : 'amd64';
const OTHER_ARCH = HOST_ARCH === 'amd64' ? 'arm64' : 'amd64';

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string };
}
interface Manifest {
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  manifests?: Descriptor[];
}
interface ImageConfig {
  architecture: string;
  config: { Cmd?: string[]; Env?: string[]; Labels?: Record<string, string> };
  rootfs: { diff_ids: string[] };
}
interface TarEntry {
  name: string;
  type: Header['type'];
  mode: number;
  uid: number;
  gid: number;
  linkname: string | null;
  pax: Record<string, string>;
  content: string;
}

async function skopeoInspect(ref: string, flags: readonly string[], creds?: Credentials): Promise<unknown> {
  const auth = creds ? ['--creds', `${creds.username}:${creds.password}`] : [];
  const { stdout } = await runChecked(['skopeo', 'inspect', '--tls-verify=false', ...auth, ...flags, `docker://${ref}`], { signal: AbortSignal.timeout(30_000) });
  return JSON.parse(stdout.toString('utf8'));
}

async function blob(registry: Registry, repo: string, digest: string): Promise<Buffer> {
  const res = await fetch(`${registry.url}/v2/${repo}/blobs/${digest}`, { signal: AbortSignal.timeout(30_000) });
  assert.equal(res.status, 200, `GET blob ${digest}`);
  const data = Buffer.from(await res.arrayBuffer());
  assert.equal(`sha256:${createHash('sha256').update(data).digest('hex')}`, digest, 'blob digest');
  return data;
}

async function listTar(data: Buffer): Promise<Map<string, TarEntry>> {
  const entries = new Map<string, TarEntry>();
  const ex = extract();
  ex.end(data);
  for await (const entry of ex) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    const h = entry.header;
    entries.set(h.name.replace(/\/$/, ''), {
      name: h.name,
      type: h.type,
      mode: h.mode,
      uid: h.uid,
      gid: h.gid,
      linkname: h.linkname,
      pax: (h.pax ?? {}) as Record<string, string>,
      content: Buffer.concat(chunks).toString('utf8'),
    });
  }
  return entries;
}

/** The manifest's media type as the registry serves it (umoci's OCI manifests carry no mediaType field). */
async function contentType(registry: Registry, repo: string, tag: string): Promise<string | null> {
  const accept = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST].join(', ');
  const res = await fetch(`${registry.url}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { accept } });
  assert.equal(res.status, 200);
  return res.headers.get('content-type');
}

async function digestOf(registry: Registry, repo: string, tag: string): Promise<string | null> {
  const accept = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST].join(', ');
  const res = await fetch(`${registry.url}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { accept } });
  assert.equal(res.status, 200);
  return res.headers.get('docker-content-digest');
}

const sha256 = (data: Uint8Array): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

test('registry starts on a free 127.0.0.1 port and stops without leftovers', { timeout: 30_000 }, async () => {
  const registry = await startRegistry();
  try {
    assert.match(registry.host, /^127\.0\.0\.1:\d+$/);
    assert.notEqual(registry.host, '127.0.0.1:5000');
    const res = await fetch(`${registry.url}/v2/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
    process.kill(registry.pid, 0); // alive
    assert.ok(existsSync(path.dirname(registry.storage)));
  } finally {
    await registry.stop();
  }
  assert.throws(() => process.kill(registry.pid, 0), { code: 'ESRCH' });
  assert.equal(existsSync(path.dirname(registry.storage)), false, 'temp dir removed');
  await registry.stop(); // idempotent
  await assert.rejects(fetch(`${registry.url}/v2/`));
});

test('a registry left by a killed test process is swept by the next start', { timeout: 30_000 }, async () => {
  const script = `require(${JSON.stringify(path.join(__dirname, 'support', 'registry.js'))}).startRegistry().then((r) => {
    process.stdout.write(JSON.stringify({ pid: r.pid, storage: r.storage }) + '\\n'); setInterval(() => {}, 1000); });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  const orphan = JSON.parse(line.toString()) as { pid: number; storage: string };
  child.kill('SIGKILL');
  await once(child, 'exit');
  process.kill(orphan.pid, 0); // the registry outlived its owner
  const registry = await startRegistry();
  await registry.stop();
  for (let i = 0; i < 100 && existsSync(`/proc/${orphan.pid}`); i++) await new Promise((r) => setTimeout(r, 20));
  assert.throws(() => process.kill(orphan.pid, 0), { code: 'ESRCH' });
  assert.equal(existsSync(path.dirname(orphan.storage)), false);
});

test('registry start honours an aborted signal', async () => {
  await assert.rejects(startRegistry({ signal: AbortSignal.abort() }));
});

describe('busybox test images', { timeout: 120_000 }, () => {
  let registry: Registry;
  let images: TestImages;
  let latest: Manifest;
  let latestConfig: ImageConfig;

  before(async () => {
    registry = await startRegistry();
    const started = Date.now();
    images = await ensureTestImages(registry, { signal: AbortSignal.timeout(100_000) });
    process.stderr.write(`# busybox images build (cached or not) + push: ${Date.now() - started} ms\n`);
    latest = (await skopeoInspect(images.latest, ['--raw'])) as Manifest;
    latestConfig = (await skopeoInspect(images.latest, ['--config'])) as ImageConfig;
  });
  after(async () => {
    await registry?.stop();
  });

  test('busybox:latest is an OCI image with 3 gzip layers, Cmd sh and labels', async () => {
    assert.equal(await contentType(registry, 'busybox', 'latest'), OCI_MANIFEST);
    assert.equal(latest.config.mediaType, 'application/vnd.oci.image.config.v1+json');
    assert.deepEqual(
      latest.layers.map((l) => l.mediaType),
      Array(3).fill('application/vnd.oci.image.layer.v1.tar+gzip'),
    );
    assert.equal(latestConfig.architecture, HOST_ARCH);
    assert.deepEqual(latestConfig.config.Cmd, ['sh']);
    assert.ok(latestConfig.config.Env?.some((e) => e.startsWith('PATH=') && e.includes('/bin')));
    assert.equal(latestConfig.config.Labels?.['org.berth.test'], 'busybox');
    assert.equal(latestConfig.rootfs.diff_ids.length, 3);
  });

  test('busybox:docker has Docker schema2 media types and the same layers', async () => {
    const m = (await skopeoInspect(images.docker, ['--raw'])) as Manifest;
    assert.equal(m.mediaType, DOCKER_MANIFEST);
    assert.equal(await contentType(registry, 'busybox', 'docker'), DOCKER_MANIFEST);
    assert.equal(m.config.mediaType, 'application/vnd.docker.container.image.v1+json');
    assert.deepEqual(
      m.layers.map((l) => l.mediaType),
      Array(3).fill('application/vnd.docker.image.rootfs.diff.tar.gzip'),
    );
    assert.deepEqual(
      m.layers.map((l) => l.digest),
      latest.layers.map((l) => l.digest),
    );
  });

  test('busybox:zstd has zstd layers whose content matches the diff_ids', async () => {
    const m = (await skopeoInspect(images.zstd, ['--raw'])) as Manifest;
    assert.equal(await contentType(registry, 'busybox', 'zstd'), OCI_MANIFEST);
    assert.deepEqual(
      m.layers.map((l) => l.mediaType),
      Array(3).fill('application/vnd.oci.image.layer.v1.tar+zstd'),
    );
    const config = (await skopeoInspect(images.zstd, ['--config'])) as ImageConfig;
    assert.deepEqual(config.rootfs.diff_ids, latestConfig.rootfs.diff_ids);
    for (const [i, layer] of m.layers.entries()) {
      const data = await blob(registry, 'busybox', layer.digest);
      assert.deepEqual([...data.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd], 'zstd magic');
      assert.equal(sha256(zstdDecompress(data)), config.rootfs.diff_ids[i]);
    }
  });

  test('busybox:multi is an OCI index: host arch -> latest, other arch -> a distinct image', async () => {
    const index = (await skopeoInspect(images.multi, ['--raw'])) as Manifest;
    assert.equal(index.mediaType, OCI_INDEX);
    assert.equal(await contentType(registry, 'busybox', 'multi'), OCI_INDEX);
    const platforms = (index.manifests ?? []).map((d) => `${d.platform?.os}/${d.platform?.architecture}`);
    assert.deepEqual(platforms.sort(), ['linux/amd64', 'linux/arm64']);
    const own = index.manifests?.find((d) => d.platform?.architecture === HOST_ARCH);
    const head = await fetch(`${registry.url}/v2/busybox/manifests/latest`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } });
    assert.ok(own);
    assert.equal(own.mediaType, OCI_MANIFEST);
    assert.equal(own.digest, head.headers.get('docker-content-digest'), 'host platform entry is busybox:latest');
    const other = (await skopeoInspect(images.multi, ['--config', '--override-arch', OTHER_ARCH])) as ImageConfig;
    assert.equal(other.architecture, OTHER_ARCH);
    assert.equal(other.config.Labels?.['org.berth.test.platform'], `linux/${OTHER_ARCH}`);
    assert.equal(other.rootfs.diff_ids.length, 4);
  });

  test('pushing again into the same registry changes nothing (zstd stays zstd)', async () => {
    const before = await Promise.all(['latest', 'docker', 'zstd', 'multi'].map((t) => digestOf(registry, 'busybox', t)));
    await ensureTestImages(registry, { signal: AbortSignal.timeout(60_000) });
    const again = await Promise.all(['latest', 'docker', 'zstd', 'multi'].map((t) => digestOf(registry, 'busybox', t)));
    assert.deepEqual(again, before);
    assert.equal(new Set(before).size, 4);
  });

  test('layer 1 is the busybox rootfs with users, modes and applet symlinks', async () => {
    const [l1] = latest.layers;
    assert.ok(l1);
    const tar = await promisify(gunzip)(await blob(registry, 'busybox', l1.digest));
    assert.equal(sha256(tar), latestConfig.rootfs.diff_ids[0], 'diff_id');
    const entries = await listTar(tar);
    assert.equal(entries.get('bin/busybox')?.type, 'file');
    assert.equal(entries.get('bin/busybox')?.mode, 0o755);
    assert.deepEqual([entries.get('bin/sh')?.type, entries.get('bin/sh')?.linkname], ['symlink', 'busybox']);
    assert.match(entries.get('etc/passwd')?.content ?? '', /^app:x:1000:1000:app:\/home\/app:\/bin\/sh$/m);
    assert.match(entries.get('etc/passwd')?.content ?? '', /^nobody:x:65534:/m);
    assert.match(entries.get('etc/group')?.content ?? '', /^app:x:1000:$/m);
    assert.deepEqual([entries.get('home/app')?.uid, entries.get('home/app')?.gid], [1000, 1000]);
    assert.equal(entries.get('tmp')?.mode, 0o1777);
    assert.equal(entries.has('etc/hostname'), false);
    assert.ok(entries.has('etc/removed-file') && entries.has('opt/opaque/old-a'));
  });

  test('layer 2 holds a whiteout, an opaque dir and a changed file', async () => {
    const l2 = latest.layers[1];
    assert.ok(l2);
    const entries = await listTar(await promisify(gunzip)(await blob(registry, 'busybox', l2.digest)));
    assert.deepEqual([...entries.keys()].sort(), ['etc', 'etc/.wh.removed-file', 'etc/motd', 'opt', 'opt/opaque', 'opt/opaque/.wh..wh..opq', 'opt/opaque/new-c']);
    assert.equal(entries.get('etc/.wh.removed-file')?.type, 'file');
    assert.equal(entries.get('opt/opaque/.wh..wh..opq')?.type, 'file');
    assert.equal(entries.get('etc/motd')?.content, 'hello from layer 2\n');
  });

  test('layer 3 holds a hardlink, symlinks and an xattr', async () => {
    const l3 = latest.layers[2];
    assert.ok(l3);
    const entries = await listTar(await promisify(gunzip)(await blob(registry, 'busybox', l3.digest)));
    assert.equal(entries.get('opt/links/file')?.content, 'linked content\n');
    assert.deepEqual([entries.get('opt/links/hardlink')?.type, entries.get('opt/links/hardlink')?.linkname], ['link', 'opt/links/file']);
    assert.deepEqual([entries.get('opt/links/symlink')?.type, entries.get('opt/links/symlink')?.linkname], ['symlink', 'file']);
    assert.equal(entries.get('opt/links/abs-symlink')?.linkname, '/etc/motd');
    assert.equal(entries.get('opt/links/dir-symlink')?.linkname, '../../etc');
    assert.equal(entries.get('opt/links/xattr-file')?.pax['SCHILY.xattr.user.berth'], 'test');
  });
});

describe('token auth', { timeout: 120_000 }, () => {
  let registry: Registry;
  before(async () => {
    registry = await startRegistry({ auth: 'token' });
  });
  after(async () => {
    await registry?.stop();
  });

  test('refuses without a token: 401 with a Bearer challenge naming realm, service and scope', async () => {
    const base = await fetch(`${registry.url}/v2/`);
    assert.equal(base.status, 401);
    assert.equal(base.headers.get('www-authenticate'), `Bearer realm="${registry.tokenServer?.realm}",service="${registry.service}"`);
    const manifest = await fetch(`${registry.url}/v2/busybox/manifests/latest`);
    assert.equal(manifest.status, 401);
    assert.match(manifest.headers.get('www-authenticate') ?? '', /^Bearer .*scope="repository:busybox:pull"/);
  });

  test('the token server refuses missing and wrong credentials', async () => {
    const url = `${registry.tokenServer?.realm}?service=${registry.service}&scope=repository:busybox:pull`;
    assert.equal((await fetch(url)).status, 401);
    const bad = Buffer.from(`${registry.credentials?.username}:wrong`).toString('base64');
    assert.equal((await fetch(url, { headers: { authorization: `Basic ${bad}` } })).status, 401);
  });

  test('push with credentials, then pull with a token; a read-only token cannot push', async () => {
    const images = await ensureTestImages(registry, { signal: AbortSignal.timeout(100_000) });
    assert.ok(registry.tokenServer?.requests.some((r) => r.status === 200 && r.account === 'berth' && r.scopes.some((s) => s.includes('push'))));
    await assert.rejects(skopeoInspect(images.latest, ['--raw']), 'no credentials');
    const m = (await skopeoInspect(images.latest, ['--raw'], registry.credentials)) as Manifest;
    assert.equal(m.layers.length, 3);

    const token = async (creds: Credentials | undefined, scope: string): Promise<string> => {
      const basic = Buffer.from(`${creds?.username}:${creds?.password}`).toString('base64');
      const res = await fetch(`${registry.tokenServer?.realm}?service=${registry.service}&scope=${scope}`, { headers: { authorization: `Basic ${basic}` } });
      assert.equal(res.status, 200);
      return ((await res.json()) as { token: string }).token;
    };
    const pull = await token(registry.readOnlyCredentials, 'repository:busybox:pull');
    const res = await fetch(`${registry.url}/v2/busybox/manifests/latest`, { headers: { authorization: `Bearer ${pull}`, accept: OCI_MANIFEST } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), OCI_MANIFEST);

    const readOnly = await token(registry.readOnlyCredentials, 'repository:busybox:pull,push');
    const upload = await fetch(`${registry.url}/v2/busybox/blobs/uploads/`, { method: 'POST', headers: { authorization: `Bearer ${readOnly}` } });
    assert.equal(upload.status, 401);
    assert.match(upload.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
    const writer = await token(registry.credentials, 'repository:busybox:pull,push');
    const allowed = await fetch(`${registry.url}/v2/busybox/blobs/uploads/`, { method: 'POST', headers: { authorization: `Bearer ${writer}` } });
    assert.equal(allowed.status, 202);
  });
});

test('basic auth: 401 with a Basic challenge, 200 with the credentials', { timeout: 60_000 }, async () => {
  await using registry = await startRegistry({ auth: 'basic' });
  const none = await fetch(`${registry.url}/v2/`);
  assert.equal(none.status, 401);
  assert.match(none.headers.get('www-authenticate') ?? '', /^Basic realm="berth-test"/);
  const header = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const { username, password } = registry.credentials ?? { username: '', password: '' };
  assert.equal((await fetch(`${registry.url}/v2/`, { headers: { authorization: header(username, 'wrong') } })).status, 401);
  assert.equal((await fetch(`${registry.url}/v2/`, { headers: { authorization: header(username, password) } })).status, 200);
});

test('debian:bookworm is built (cached) and pushed', { timeout: 600_000 }, async () => {
  await using registry = await startRegistry();
  const started = Date.now();
  const ref = await ensureDebianImage(registry, { signal: AbortSignal.timeout(580_000) });
  process.stderr.write(`# debian image build (cached or not) + push: ${Date.now() - started} ms\n`);
  const m = (await skopeoInspect(ref, ['--raw'])) as Manifest;
  assert.equal(await contentType(registry, 'debian', 'bookworm'), OCI_MANIFEST);
  assert.deepEqual(
    m.layers.map((l) => l.mediaType),
    ['application/vnd.oci.image.layer.v1.tar+gzip'],
  );
  const config = (await skopeoInspect(ref, ['--config'])) as ImageConfig;
  assert.deepEqual(config.config.Cmd, ['bash']);
  assert.equal(config.config.Labels?.['org.berth.test'], 'debian');
  const probe = await run(['skopeo', 'inspect', '--tls-verify=false', `docker://${registry.host}/debian:missing`]);
  assert.notEqual(probe.code, 0);
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  assert.equal(mounts.includes(` ${cacheRoot()}/`), false, 'debootstrap left no mounts');
});
