/**
 * ADD of URLs together with local sources (the context, or --from a stage),
 * end to end on a real berthd against a real HTTP server on 127.0.0.1, by
 * `berth build` and by `docker build` (classic builder) on Berth's Docker
 * API: every source lands in the destination directory in the order
 * written; downloads keep mode 0600 and are never extracted while local
 * archives are; --chown and --chmod reach both kinds; the step's cache
 * follows both the downloads' content and the local files'; --checksum, a
 * destination without "/" and a missing local source fail clearly.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ApiClient } from '../src/api/client';
import { runChecked } from '../src/common/process/spawn';
import { singleJson } from './support/cli';
import { containerOutput } from './support/container-output';
import { dockerSocketOf, runDocker, type DockerRun } from './support/docker-cli';
import { startEngineFixture, type EngineFixture } from './support/engine-fixture';
import { startFileServer, type FileServer } from './support/file-server';

let engine: EngineFixture;
let client: ApiClient;
let server: FileServer;

/** Writes a build context (text files by name, with optional modes) into a new directory. */
async function context(files: Record<string, string | Buffer>, modes: Record<string, number> = {}): Promise<string> {
  const ctx = await mkdtemp(path.join(engine.dir, 'ctx-'));
  for (const [name, body] of Object.entries(files)) await writeFile(path.join(ctx, name), body);
  for (const [name, mode] of Object.entries(modes)) await chmod(path.join(ctx, name), mode);
  return ctx;
}

async function build(ctx: string, tag: string): Promise<{ code: number | null; result: Record<string, unknown>; stderr: string }> {
  const r = await engine.berth(['build', ctx, '-t', tag]);
  return { code: r.code, result: singleJson(r.stdout), stderr: r.stderr };
}

/** A tar archive holding one file `name` with `text`. */
async function tarOf(name: string, text: string): Promise<Buffer> {
  const dir = await mkdtemp(path.join(engine.dir, 'tar-'));
  await writeFile(path.join(dir, name), text);
  await runChecked(['tar', '-cf', path.join(dir, 'out.tar'), '-C', dir, name]);
  return readFile(path.join(dir, 'out.tar'));
}

function serve(name: string, body: string | Buffer, modified = new Date('2022-01-02T03:04:05Z')): string {
  server.files.set(`/files/${name}`, { body: Buffer.from(body), modified });
  return `${server.base}/files/${name}`;
}

/** The docker CLI with the classic builder. */
const docker = (args: readonly string[], cwd?: string): Promise<DockerRun> => runDocker(dockerSocketOf(engine.socket), args, { env: { DOCKER_BUILDKIT: '0' }, cwd });

before(async () => {
  engine = await startEngineFixture('berth-add-mixed-', { pull: true });
  client = new ApiClient({ socketPath: engine.socket });
  server = await startFileServer();
});

after(async () => {
  await server?.close();
  await engine?.dispose();
});

test('ADD <url> with context files: all in the directory in order, downloads 0600 and not extracted, local archives extracted, --chown/--chmod on both, cache keyed by both', async () => {
  const a = serve('a.txt', 'remote a v1\n');
  const remoteTar = serve('remote.tar', await tarOf('remote-inside.txt', 'in the remote archive\n'), new Date('2021-03-04T05:06:07Z'));
  const same = serve('same.txt', 'from the url\n');
  const dockerfile = `FROM ${engine.images.latest}
ADD ${same} same.txt /later-local/
ADD same.txt ${same} /later-url/
ADD ${a} local.txt bundle.tar ${remoteTar} /dest/
ADD --chown=app:app --chmod=640 ${a} local.txt /owned/
`;
  const files = { Dockerfile: dockerfile, 'local.txt': 'local one\n', 'bundle.tar': await tarOf('inside.txt', 'in the local archive\n'), 'same.txt': 'from the context\n' };
  const first = await build(await context(files, { 'local.txt': 0o604 }), 'addmix:1');
  assert.equal(first.code, 0, JSON.stringify(first.result) + first.stderr);
  assert.deepEqual([first.result['cached'], first.result['layersWritten']], [0, 4]);
  const check = 'find /dest | sort; stat -c "%n %a %u:%g" /dest/a.txt /dest/local.txt /dest/remote.tar; stat -c %Y /dest/a.txt; cat /dest/a.txt /dest/local.txt /dest/inside.txt; ' +
    'stat -c "%n %a %U:%G" /owned /owned/a.txt /owned/local.txt; cat /owned/a.txt /owned/local.txt /later-local/same.txt /later-url/same.txt';
  assert.equal(
    await containerOutput(client, 'addmix:1', check),
    [
      '/dest', '/dest/a.txt', '/dest/inside.txt', '/dest/local.txt', '/dest/remote.tar',
      '/dest/a.txt 600 0:0', '/dest/local.txt 604 0:0', '/dest/remote.tar 600 0:0',
      String(Date.parse('2022-01-02T03:04:05Z') / 1000),
      'remote a v1', 'local one', 'in the local archive',
      '/owned 755 app:app', '/owned/a.txt 640 app:app', '/owned/local.txt 640 app:app',
      'remote a v1', 'local one', 'from the context', 'from the url', '',
    ].join('\n'),
  );

  // The same downloads and files: every step from the cache, the same image.
  const again = await build(await context(files, { 'local.txt': 0o604 }), 'addmix:2');
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual([again.result['cached'], again.result['layersWritten']], [4, 0]);
  assert.equal(again.result['id'], first.result['id']);

  // New content behind the URL (same name and Last-Modified): the last two steps, which download it, run again.
  serve('a.txt', 'remote a v2\n');
  const urlChanged = await build(await context(files, { 'local.txt': 0o604 }), 'addmix:3');
  assert.equal(urlChanged.code, 0, urlChanged.stderr);
  assert.deepEqual([urlChanged.result['cached'], urlChanged.result['layersWritten']], [2, 2]);
  assert.equal(await containerOutput(client, 'addmix:3', 'cat /dest/a.txt /owned/a.txt /dest/local.txt'), 'remote a v2\nremote a v2\nlocal one\n');

  // A changed local file, the downloads as before: the last two steps, which read it, run again.
  const localChanged = await build(await context({ ...files, 'local.txt': 'local two\n' }, { 'local.txt': 0o604 }), 'addmix:4');
  assert.equal(localChanged.code, 0, localChanged.stderr);
  assert.deepEqual([localChanged.result['cached'], localChanged.result['layersWritten']], [2, 2]);
  assert.equal(await containerOutput(client, 'addmix:4', 'cat /dest/a.txt /dest/local.txt /owned/local.txt'), 'remote a v2\nlocal two\nlocal two\n');
});

test('ADD --from=<stage> <url> <paths>: the download and the stage files together, the archive from the stage extracted, cache follows the download', async () => {
  const b = serve('b.txt', 'remote b v1\n');
  const dockerfile = `FROM ${engine.images.latest} AS stage
RUN mkdir /out && echo staged > /out/staged.txt && echo inner > /inner.txt && tar -cf /out/packed.tar -C / inner.txt
FROM ${engine.images.latest}
ADD --from=stage ${b} /out/staged.txt /out/packed.tar /fromstage/
`;
  const ctx = await context({ Dockerfile: dockerfile });
  const first = await build(ctx, 'addmix-from:1');
  assert.equal(first.code, 0, JSON.stringify(first.result) + first.stderr);
  assert.equal(
    await containerOutput(client, 'addmix-from:1', 'find /fromstage | sort; stat -c "%n %a" /fromstage/b.txt; cat /fromstage/b.txt /fromstage/staged.txt /fromstage/inner.txt'),
    '/fromstage\n/fromstage/b.txt\n/fromstage/inner.txt\n/fromstage/staged.txt\n/fromstage/b.txt 600\nremote b v1\nstaged\ninner\n',
  );
  const again = await build(ctx, 'addmix-from:2');
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual([again.result['cached'], again.result['layersWritten']], [2, 0]);
  serve('b.txt', 'remote b v2\n');
  const changed = await build(ctx, 'addmix-from:3');
  assert.equal(changed.code, 0, changed.stderr);
  assert.deepEqual([changed.result['cached'], changed.result['layersWritten']], [1, 1]);
  assert.equal(await containerOutput(client, 'addmix-from:3', 'cat /fromstage/b.txt'), 'remote b v2\n');
});

test('ADD <url> with local sources: --checksum, a destination without "/" and a missing local file fail clearly, the first two before any download', async () => {
  const c = serve('c.txt', 'remote c\n');
  const sum = `sha256:${'0'.repeat(64)}`;
  const asked = server.requests.length;
  const checksum = await build(await context({ Dockerfile: `FROM ${engine.images.latest}\nADD --checksum=${sum} ${c} local.txt /d/\n`, 'local.txt': 'x\n' }), 'addmix-bad:1');
  assert.equal(checksum.code, 1);
  assert.equal(checksum.result['code'], 'invalid_argument');
  assert.match(String(checksum.result['message']), /Dockerfile:2: ADD --checksum=.*--checksum needs a single URL source/);

  const notDir = await build(await context({ Dockerfile: `FROM ${engine.images.latest}\nADD ${c} local.txt /d\n`, 'local.txt': 'x\n' }), 'addmix-bad:2');
  assert.equal(notDir.code, 1);
  assert.match(String(notDir.result['message']), /Dockerfile:2: .*the destination must be a directory and end with a \//);
  assert.equal(server.requests.length, asked);

  const missing = await build(await context({ Dockerfile: `FROM ${engine.images.latest}\nADD ${c} absent.txt /d/\n` }), 'addmix-bad:3');
  assert.equal(missing.code, 1);
  assert.equal(missing.result['code'], 'not_found');
  assert.match(String(missing.result['message']), /file not found in build context .*: absent\.txt/);
});

test('docker build (classic builder, DOCKER_BUILDKIT=0) on the Docker API: ADD --chown <url> <file> <archive> <dir>/, then the cache', async () => {
  const d = serve('d.txt', 'remote d v1\n');
  const ctx = await context({ Dockerfile: `FROM ${engine.images.latest}\nADD --chown=app ${d} local.txt bundle.tar /dest/\n`, 'local.txt': 'local d\n', 'bundle.tar': await tarOf('inside.txt', 'in the local archive\n') });
  const cold = await docker(['build', '-t', 'addmix-docker:1', '.'], ctx);
  assert.equal(cold.code, 0, cold.stdout + cold.stderr);
  assert.match(cold.stdout, /Successfully tagged addmix-docker:1/);
  const run = await docker(['run', '--rm', 'addmix-docker:1', 'sh', '-c', 'find /dest | sort; stat -c "%n %a %U:%G" /dest/d.txt /dest/local.txt; cat /dest/d.txt /dest/local.txt /dest/inside.txt']);
  assert.equal(
    run.stdout,
    '/dest\n/dest/d.txt\n/dest/inside.txt\n/dest/local.txt\n/dest/d.txt 600 app:app\n/dest/local.txt 644 app:app\nremote d v1\nlocal d\nin the local archive\n',
    run.stderr,
  );
  const warm = await docker(['build', '-t', 'addmix-docker:2', '.'], ctx);
  assert.equal(warm.code, 0, warm.stderr);
  assert.equal(warm.stdout.match(/Using cache/g)?.length, 1, warm.stdout);

  serve('d.txt', 'remote d v2\n');
  const changed = await docker(['build', '-t', 'addmix-docker:3', '.'], ctx);
  assert.equal(changed.code, 0, changed.stderr);
  assert.doesNotMatch(changed.stdout, /Using cache/);
  const updated = await docker(['run', '--rm', 'addmix-docker:3', 'cat', '/dest/d.txt']);
  assert.equal(updated.stdout, 'remote d v2\n', updated.stderr);
});
