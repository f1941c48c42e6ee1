/**
 * The image builder end to end, as root: a real registry, a real berthd,
 * real runc/crun, the berth CLI and the docker CLI. Dockerfiles of every
 * instruction are built and their images checked inside containers and by
 * their config and history; multi-stage, ARG scoping, .dockerignore,
 * --chown to a user made by RUN, the layer cache, failing RUNs, here-documents,
 * the native snapshotter, the reference CLI's UID and features builds, and
 * `docker build` (classic builder) through the Docker API.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { ApiClient } from '../src/api/client';
import { runChecked } from '../src/common/process/spawn';
import { runBerth, singleJson } from './support/cli';
import { containerOutput } from './support/container-output';
import { dockerEnv, dockerSocketOf, runDocker, type DockerRun } from './support/docker-cli';
import { startEngineFixture, type EngineFixture } from './support/engine-fixture';
import type { Registry } from './support/registry';
import type { TestImages } from './support/test-images';

const exec = promisify(execFile);
let fx: EngineFixture;
let registry: Registry;
let images: TestImages;
let dir = '';
let socket = '';
let client: ApiClient;

/** Writes a build context (files by relative path) into a new directory. */
async function context(files: Record<string, string>): Promise<string> {
  const ctx = await mkdtemp(path.join(dir, 'ctx-'));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(ctx, name)), { recursive: true });
    await writeFile(path.join(ctx, name), text);
  }
  return ctx;
}

async function build(ctx: string, args: readonly string[] = []): Promise<{ code: number | null; result: Record<string, unknown>; stderr: string }> {
  const r = await runBerth(['build', ctx, '--socket', socket, '--build-arg', `BASE=${images.latest}`, ...args]);
  return { code: r.code, result: singleJson(r.stdout), stderr: r.stderr };
}

async function built(ctx: string, args: readonly string[] = []): Promise<Record<string, unknown>> {
  const r = await build(ctx, args);
  assert.equal(r.code, 0, JSON.stringify(r.result) + r.stderr);
  return r.result;
}

/** Runs `script` with sh in a container of `image`; returns its output (the container is removed). */
function sh(image: string, script: string, user?: string): Promise<string> {
  return containerOutput(client, image, script, user);
}

/** The docker CLI with the classic builder. */
const docker = (args: readonly string[], cwd?: string): Promise<DockerRun> => runDocker(dockerSocketOf(socket), args, { env: { DOCKER_BUILDKIT: '0' }, cwd });

before(async () => {
  fx = await startEngineFixture('berth-build-', { pull: true });
  ({ registry, images, dir, socket } = fx);
  client = new ApiClient({ socketPath: socket });
});

after(async () => {
  await fx?.dispose();
});

const EVERY_INSTRUCTION = `ARG BASE
FROM \${BASE} AS base
ENV A=1 B="two words"
ENV C=\${A}-x
LABEL org.test.one="1" two=2
WORKDIR /app
COPY hello.txt ./
COPY dir/ /data/
COPY --chmod=0600 secret.txt /data/secret
COPY sub/*.txt /globbed/
ADD archive.tar /unpacked/
ADD hello.txt /added/
RUN echo "$A $B $C" > /app/env.txt && mkdir /gone && echo x > /gone/f
RUN ["/bin/sh", "-c", "rm -rf /gone && echo \\"exec form\\" > /app/exec.txt"]
USER 1000:1000
EXPOSE 8080 53/udp
VOLUME ["/vol"]
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s --retries=2 CMD true
ONBUILD RUN echo onbuild
SHELL ["/bin/sh", "-ec"]
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /app/env.txt"]
`;

const EVERY_CHECK = [
  'cat /app/env.txt /app/hello.txt /app/exec.txt',
  'find /data | sort',
  'stat -c "%a %u:%g" /data/secret /data/a.txt',
  'ls /globbed',
  'cat /unpacked/inside.txt /added/hello.txt',
  'test ! -e /gone && echo gone',
  'id -u',
].join(' && ');
const EVERY_EXPECTED = [
  '1 two words 1-x',
  'hello',
  'exec form',
  '/data',
  '/data/a.txt',
  '/data/nested',
  '/data/nested/b.txt',
  '/data/secret',
  '600 0:0',
  '644 0:0',
  'one.txt',
  'two.txt',
  'from the archive',
  'hello',
  'gone',
  '1000',
  '',
].join('\n');

test('every instruction: filesystem, config and history of the image', async () => {
  const ctx = await context({
    Dockerfile: EVERY_INSTRUCTION,
    'hello.txt': 'hello\n',
    'dir/a.txt': 'a\n',
    'dir/nested/b.txt': 'b\n',
    'secret.txt': 's\n',
    'sub/one.txt': '1\n',
    'sub/two.txt': '2\n',
    'sub/three.md': '3\n',
    'inner/inside.txt': 'from the archive\n',
  });
  await runChecked(['tar', '-cf', path.join(ctx, 'archive.tar'), '-C', path.join(ctx, 'inner'), 'inside.txt']);
  const result = await built(ctx, ['-t', 'every:1', '--label', 'from.cli=yes']);
  assert.deepEqual(result['tags'], ['every:1']);
  const image = await client.call('imageInspect', { params: { name: 'every:1' } });
  const c = image.config.config ?? {};
  assert.deepEqual(
    c.Env?.filter((e) => /^[ABC]=/.test(e)),
    ['A=1', 'B=two words', 'C=1-x'],
  );
  assert.equal(c.Labels?.['org.test.one'], '1');
  assert.equal(c.Labels?.['two'], '2');
  assert.equal(c.Labels?.['from.cli'], 'yes');
  assert.equal(c.WorkingDir, '/app');
  assert.equal(c.User, '1000:1000');
  assert.deepEqual(Object.keys(c.ExposedPorts ?? {}).sort(), ['53/udp', '8080/tcp']);
  assert.deepEqual(Object.keys(c.Volumes ?? {}), ['/vol']);
  assert.equal(c.StopSignal, 'SIGINT');
  assert.deepEqual(c.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 5e9, Retries: 2 });
  assert.deepEqual(c.OnBuild, ['RUN echo onbuild']);
  assert.deepEqual(c.Shell, ['/bin/sh', '-ec']);
  assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c']);
  assert.deepEqual(c.Cmd, ['cat /app/env.txt']);
  // History: the base image's, then one entry per instruction after FROM (the CLI label too).
  const base = await client.call('imageInspect', { params: { name: images.latest } });
  const history = image.config.history ?? [];
  const mine = history.slice((base.config.history ?? []).length);
  assert.equal(mine.length, 22);
  assert.equal(mine.filter((h) => h.empty_layer !== true).length, image.layers.length - base.layers.length);
  assert.match(mine[10]?.created_by ?? '', /^\/bin\/sh -c echo "\$A \$B \$C"/);
  assert.equal(image.config.rootfs.diff_ids.length, image.layers.length);

  // The image's own command (entrypoint + cmd) as the image's user.
  assert.equal(await sh(image.id, EVERY_CHECK), EVERY_EXPECTED);
  // The layers as blobs: pushed here, pulled (and unpacked from the blobs) by the native engine's test below.
  await client.call('imageTag', { params: { name: 'every:1' }, body: { target: `${registry.host}/built/every:1` } });
  const pushed = await runBerth(['push', `${registry.host}/built/every:1`, '--socket', socket]);
  assert.equal(pushed.code, 0, pushed.stdout + pushed.stderr);
});

const MULTI_STAGE = `ARG GREETING=hello
ARG BASE
FROM \${BASE} AS builder
ARG GREETING
ARG LOCAL=local-default
RUN echo "$GREETING $LOCAL \${UNSET:-unset}" > /out.txt
FROM \${BASE} AS other
RUN echo other > /other.txt
FROM \${BASE}
COPY --from=builder /out.txt /final/out.txt
COPY --from=0 /out.txt /final/zero.txt
RUN echo "[$GREETING]" > /final/scope.txt
ARG BASE
COPY --from=\${BASE} /etc/passwd /final/passwd
`;

test('multi-stage: COPY --from a stage by name and index and from an image, ARG scoping, --target', async () => {
  const ctx = await context({ Dockerfile: MULTI_STAGE });
  const full = await built(ctx, ['-t', 'multi:full', '--build-arg', 'LOCAL=cli']);
  const out = await sh(String(full['id']), 'cat /final/out.txt /final/zero.txt /final/scope.txt; test ! -e /other.txt && test ! -e /out.txt && echo clean; cmp /final/passwd /etc/passwd && echo from-image');
  // Global ARGs reach FROM lines; inside a stage only when declared again; build args override defaults.
  assert.equal(out, 'hello cli unset\nhello cli unset\n[]\nclean\nfrom-image\n');
  const target = await built(ctx, ['-t', 'multi:builder', '--target', 'builder', '--build-arg', 'GREETING=hi']);
  assert.equal(await sh(String(target['id']), 'cat /out.txt; test ! -e /final && echo no-final'), 'hi local-default unset\nno-final\n');
  const unknown = await build(ctx, ['--target', 'nope']);
  assert.equal(unknown.code, 1);
  assert.match(String(unknown.result['message']), /target stage "nope" could not be found/);
});

test('.dockerignore leaves files out of COPY . (exceptions kept)', async () => {
  const ctx = await context({
    Dockerfile: 'ARG BASE\nFROM ${BASE}\nCOPY . /ctx/\n',
    '.dockerignore': '# comment\nsecret/\n*.log\n!keep.log\nDockerfile\n',
    'app.txt': 'app\n',
    'debug.log': 'no\n',
    'keep.log': 'yes\n',
    'secret/key': 'no\n',
    'src/main.c': 'int main;\n',
  });
  const r = await built(ctx);
  assert.equal(await sh(String(r['id']), 'cd /ctx && find . | sort'), ['.', './.dockerignore', './app.txt', './keep.log', './src', './src/main.c', ''].join('\n'));
  const missing = await build(await context({ Dockerfile: 'ARG BASE\nFROM ${BASE}\nCOPY secret.txt /\n', '.dockerignore': 'secret.txt\n', 'secret.txt': 'x' }));
  assert.equal(missing.code, 1);
  assert.match(String(missing.result['message']), /Dockerfile:3: COPY secret.txt \/: file not found in build context or excluded by \.dockerignore: secret\.txt/);
});

test('COPY --chown to a user created by an earlier RUN', async () => {
  const ctx = await context({
    Dockerfile: 'ARG BASE\nFROM ${BASE}\nRUN echo maker:x:1234:1234::/home/maker:/bin/sh >> /etc/passwd && echo maker:x:1234: >> /etc/group && mkdir -p /home/maker\nCOPY --chown=maker:maker f.txt /home/maker/f.txt\nCOPY --chown=1234 dir /home/maker/dir\nUSER maker\n',
    'f.txt': 'f\n',
    'dir/g.txt': 'g\n',
  });
  const r = await built(ctx);
  assert.equal(await sh(String(r['id']), 'stat -c "%u:%g %n" /home/maker/f.txt /home/maker/dir /home/maker/dir/g.txt; id -un'), '1234:1234 /home/maker/f.txt\n1234:1234 /home/maker/dir\n1234:1234 /home/maker/dir/g.txt\nmaker\n');
});

test('a fully cached rebuild: same image id, no container, no layer; a changed file or --no-cache builds again', async () => {
  const files = { Dockerfile: 'ARG BASE\nFROM ${BASE}\nRUN echo one > /one\nCOPY a.txt /a.txt\nRUN cat /a.txt > /copy\nENV X=1\nCMD ["cat", "/copy"]\n', 'a.txt': 'first\n' };
  const ctx = await context(files);
  const cold = await built(ctx, ['-t', 'cache:1']);
  assert.ok(Number(cold['containersCreated']) === 2 && Number(cold['layersWritten']) === 3, JSON.stringify(cold));
  const snapshots = async (): Promise<number> => Number((await runChecked(['sh', '-c', `ls ${path.join(dir, 'data', 'snapshots', 'overlay', 'snapshots')} | wc -l`])).stdout.toString().trim());
  const before = await snapshots();
  const events: string[] = [];
  const watching = new AbortController();
  const watcher = (async () => {
    for await (const e of client.stream('events', { signal: watching.signal })) events.push(`${e.type}:${e.action}`);
  })().catch(() => undefined);
  const warm = await built(ctx, ['-t', 'cache:2']);
  watching.abort();
  await watcher;
  assert.equal(warm['id'], cold['id']);
  assert.deepEqual([warm['cached'], warm['containersCreated'], warm['layersWritten']], [5, 0, 0]);
  assert.deepEqual(events.filter((e) => e.startsWith('container:')), []);
  assert.equal(await snapshots(), before);
  const image = await client.call('imageInspect', { params: { name: 'cache:1' } });
  assert.deepEqual(image.repoTags, ['cache:1', 'cache:2']);

  await writeFile(path.join(ctx, 'a.txt'), 'second\n');
  const changed = await built(ctx);
  assert.notEqual(changed['id'], cold['id']);
  // The first RUN still comes from the cache; COPY and what follows run again.
  assert.deepEqual([changed['cached'], changed['containersCreated']], [1, 1]);
  assert.equal(await sh(String(changed['id']), 'cat /copy'), 'second\n');
  const fresh = await built(ctx, ['--no-cache']);
  assert.deepEqual([fresh['cached'], fresh['containersCreated']], [0, 2]);
  assert.notEqual(fresh['id'], changed['id']);
});

test('a failing RUN names the line and instruction, with its output and exit code', async () => {
  const ctx = await context({ Dockerfile: 'ARG BASE\nFROM ${BASE}\nRUN echo fine\nRUN echo before-the-failure && echo on-stderr >&2 && exit 3\nRUN echo never\n' });
  const r = await build(ctx);
  assert.equal(r.code, 1);
  assert.equal(r.result['outcome'], 'error');
  const message = String(r.result['message']);
  assert.match(message, /^Dockerfile:4: RUN echo before-the-failure && echo on-stderr >&2 && exit 3: the command '\/bin\/sh -c echo before-the-failure/);
  assert.match(message, /returned a non-zero code: 3/);
  assert.match(message, /before-the-failure\non-stderr/);
  assert.match(r.stderr, /before-the-failure/);
  assert.doesNotMatch(r.stderr, /never/);
  // The failed step's container is gone.
  assert.deepEqual(await client.call('containerList', { query: { all: 'true' } }), []);
});

test('docker build (classic builder, DOCKER_BUILDKIT=0) through the Docker API: tags, build args, labels, target, cache, failures', async () => {
  const ctx = await context({
    Dockerfile: 'ARG BASE\nFROM ${BASE} AS first\nARG WHO=nobody\nCOPY hello.txt /hello.txt\nRUN echo "hi $WHO" >> /hello.txt\nFROM first AS second\nRUN echo second > /second.txt\n',
    'hello.txt': 'hello\n',
  });
  const args = ['build', '-t', 'dockerbuilt:1', '--build-arg', `BASE=${images.latest}`, '--build-arg', 'WHO=docker', '--label', 'via=docker', '--target', 'first', '.'];
  const cold = await docker(args, ctx);
  assert.equal(cold.code, 0, cold.stdout + cold.stderr);
  assert.match(cold.stdout, /Step 1\/6 : FROM/);
  assert.match(cold.stdout, /Successfully built [0-9a-f]{12}/);
  assert.match(cold.stdout, /Successfully tagged dockerbuilt:1/);
  const run = await docker(['run', '--rm', 'dockerbuilt:1', 'cat', '/hello.txt']);
  assert.equal(run.stdout, 'hello\nhi docker\n', run.stderr);
  const inspect = await docker(['image', 'inspect', '--format', '{{json .Config.Labels}} {{.Id}}', 'dockerbuilt:1']);
  const [labels, id] = inspect.stdout.trim().split(' ');
  assert.equal((JSON.parse(labels ?? '{}') as Record<string, string>)['via'], 'docker');
  const warm = await docker(args, ctx);
  assert.equal(warm.code, 0, warm.stderr);
  assert.equal(warm.stdout.match(/Using cache/g)?.length, 3);
  assert.doesNotMatch(warm.stdout, /Running in/);
  assert.match(warm.stdout, new RegExp(`Successfully built ${(id ?? '').slice(7, 19)}`));
  const quiet = await docker(['build', '-q', '--build-arg', `BASE=${images.latest}`, '.'], ctx);
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.match(quiet.stdout.trim(), /^sha256:[0-9a-f]{64}$/, quiet.stderr);

  const failing = await context({ Dockerfile: 'ARG BASE\nFROM ${BASE}\nRUN echo docker-side-output && exit 7\n' });
  const failed = await docker(['build', '--build-arg', `BASE=${images.latest}`, '.'], failing);
  assert.equal(failed.code, 7, failed.stdout + failed.stderr);
  assert.match(failed.stdout, /docker-side-output/);
  assert.match(failed.stderr, /Dockerfile:3: RUN echo docker-side-output && exit 7: .*returned a non-zero code: 7/);
});

test("the reference CLI's updateUID.Dockerfile, built as the reference builds it (docker build -f outside the context)", async () => {
  const anchors = [path.join(__dirname, '..', '..', '..', 'shared', 'anchors'), path.join(__dirname, '..', '..', '..', '..', 'shared', 'anchors')].find((d) => existsSync(path.join(d, 'reference-cli.sh')));
  assert.ok(anchors, '../shared/anchors/reference-cli.sh is needed');
  const bin = (await exec('bash', [path.join(anchors, 'reference-cli.sh')], { timeout: 300_000 })).stdout.trim();
  const script = path.join(path.dirname(await realpath(bin)), 'scripts', 'updateUID.Dockerfile');
  const dockerfile = path.join(dir, 'updateUID.Dockerfile-0.89.0');
  await copyFile(script, dockerfile);
  const empty = await mkdtemp(path.join(dir, 'empty-folder-'));
  const platform = `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`;
  const argv = ['build', '-f', dockerfile, '-t', 'vsc-uid-test-uid', '--platform', platform, '--build-arg', `BASE_IMAGE=${images.latest}`, '--build-arg', 'REMOTE_USER=app'];
  const r = await docker([...argv, '--build-arg', 'NEW_UID=1234', '--build-arg', 'NEW_GID=1235', '--build-arg', 'IMAGE_USER=root', empty]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Updating UID:GID from 1000:1000 to 1234:1235\./);
  const run = await docker(['run', '--rm', 'vsc-uid-test-uid', 'sh', '-c', 'id app; stat -c %u:%g /home/app; id -u']);
  assert.equal(run.stdout, 'uid=1234(app) gid=1235(app) groups=1235(app)\n1234:1235\n0\n', run.stderr);
});

test("the reference CLI's features build (non-BuildKit path): devcontainer build with a local feature against Berth's docker.sock", async () => {
  const anchors = [path.join(__dirname, '..', '..', '..', 'shared', 'anchors'), path.join(__dirname, '..', '..', '..', '..', 'shared', 'anchors')].find((d) => existsSync(path.join(d, 'reference-cli.sh')));
  assert.ok(anchors, '../shared/anchors/reference-cli.sh is needed');
  const bin = (await exec('bash', [path.join(anchors, 'reference-cli.sh')], { timeout: 300_000 })).stdout.trim();
  const ws = await context({
    '.devcontainer/devcontainer.json': JSON.stringify({ image: images.latest, features: { './hello': { greeting: 'hey' } }, remoteUser: 'app' }),
    '.devcontainer/hello/devcontainer-feature.json': JSON.stringify({ id: 'hello', version: '1.0.0', name: 'Hello', options: { greeting: { type: 'string', default: 'hi' } }, containerEnv: { HELLO_FEATURE: 'yes' } }),
    '.devcontainer/hello/install.sh': '#!/bin/sh\nset -e\necho "$GREETING from the feature as $_REMOTE_USER" > /etc/hello.txt\n',
  });
  await runChecked(['chmod', '+x', path.join(ws, '.devcontainer/hello/install.sh')]);
  const env = { ...dockerEnv(dockerSocketOf(socket)), DOCKER_BUILDKIT: '0' };
  const r = await exec(bin, ['build', '--workspace-folder', ws, '--image-name', 'featured:1', '--log-level', 'debug'], { env, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 }).then(
    (o) => ({ code: 0, stdout: o.stdout, stderr: o.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal((JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>)['outcome'], 'success', r.stdout);
  const run = await docker(['run', '--rm', 'featured:1', 'sh', '-c', 'cat /etc/hello.txt; echo $HELLO_FEATURE']);
  assert.equal(run.stdout, 'hey from the feature as app\nyes\n', run.stderr);
  const inspect = await docker(['image', 'inspect', '--format', '{{index .Config.Labels "devcontainer.metadata"}}', 'featured:1']);
  assert.match(inspect.stdout, /"id":"\.\/hello"/);
});

test('the native (plain copy) snapshotter: RUN and COPY layers from tree comparison, whiteouts, the cache', async () => {
  const nativeSocket = path.join(dir, 'run-native', 'berth.sock');
  const r = await runBerth(['engine', 'start', '--data-root', path.join(dir, 'data-native'), '--socket', nativeSocket, '--snapshotter', 'native']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const native = new ApiClient({ socketPath: nativeSocket });
  try {
    assert.equal((await native.call('info')).snapshotter, 'native');
    assert.equal((await runBerth(['pull', images.latest, '--socket', nativeSocket])).code, 0);
    const ctx = await context({
      Dockerfile: 'ARG BASE\nFROM ${BASE}\nRUN mkdir -p /gone /kept && echo x > /gone/f && echo k > /kept/k && ln -s /kept/k /link\nWORKDIR /work\nCOPY a.txt ./\nRUN rm -rf /gone && echo changed > /kept/k && chmod 600 /kept/k\nWORKDIR /work\n',
      'a.txt': 'a\n',
    });
    const build = async (): Promise<Record<string, unknown>> => {
      const b = await runBerth(['build', ctx, '--socket', nativeSocket, '--build-arg', `BASE=${images.latest}`]);
      assert.equal(b.code, 0, b.stdout + b.stderr);
      return singleJson(b.stdout);
    };
    const cold = await build();
    // RUN, WORKDIR (creates /work), COPY, RUN; the second WORKDIR changes nothing.
    assert.equal(cold['layersWritten'], 4);
    const image = await native.call('imageInspect', { params: { name: String(cold['id']) } });
    const base = await native.call('imageInspect', { params: { name: images.latest } });
    assert.equal(image.layers.length, base.layers.length + 4);
    const warm = await build();
    assert.deepEqual([warm['id'], warm['layersWritten'], warm['containersCreated']], [cold['id'], 0, 0]);
    const { id } = await native.call('containerCreate', { body: { image: String(cold['id']), entrypoint: ['/bin/sh', '-c'], cmd: ['pwd; cat a.txt /link; stat -c %a /kept/k; test ! -e /gone && echo gone'] } });
    await native.call('containerStart', { params: { id } });
    assert.equal((await native.call('containerWait', { params: { id } })).exitCode, 0);
    let out = '';
    for await (const l of native.stream('containerLogs', { params: { id } })) out += `${l.line}\n`;
    await native.call('containerRemove', { params: { id }, query: { force: 'true' } });
    assert.equal(out, '/work\na\nchanged\n600\ngone\n');
    // The image of the first test, pushed from the overlay engine, unpacked here from its blobs.
    const pulled = await runBerth(['pull', `${registry.host}/built/every:1`, '--socket', nativeSocket]);
    assert.equal(pulled.code, 0, pulled.stdout + pulled.stderr);
    const c = await native.call('containerCreate', { body: { image: `${registry.host}/built/every:1`, entrypoint: ['/bin/sh', '-c'], cmd: [EVERY_CHECK] } });
    await native.call('containerStart', { params: { id: c.id } });
    assert.equal((await native.call('containerWait', { params: { id: c.id } })).exitCode, 0);
    let every = '';
    for await (const l of native.stream('containerLogs', { params: { id: c.id } })) every += `${l.line}\n`;
    await native.call('containerRemove', { params: { id: c.id }, query: { force: 'true' } });
    assert.equal(every, EVERY_EXPECTED);
  } finally {
    await runBerth(['engine', 'stop', '--socket', nativeSocket]);
  }
});

test('here-documents: RUN <<EOF as the script, a command reading one, COPY <<EOF with and without expansion', async () => {
  const ctx = await context({
    Dockerfile: [
      'ARG BASE',
      'FROM ${BASE}',
      'ENV WHO=world',
      'RUN <<EOF',
      'echo "script for $WHO" > /script.txt',
      'echo second line >> /script.txt',
      'EOF',
      'RUN cat > /stdin.txt <<"END" && echo done >> /stdin.txt',
      'kept $WHO',
      'END',
      'COPY <<EOT /copied.txt',
      'hello $WHO',
      'EOT',
      "COPY <<-'RAW' /raw.txt",
      '\tliteral $WHO',
      'RAW',
      '',
    ].join('\n'),
  });
  const r = await built(ctx);
  assert.equal(await sh(String(r['id']), 'cat /script.txt /stdin.txt /copied.txt /raw.txt'), 'script for world\nsecond line\nkept $WHO\ndone\nhello world\nliteral $WHO\n');
  const again = await built(ctx);
  assert.equal(again['id'], r['id']);
});
