/**
 * --cache-from on real engines: an image built on one berthd and pushed to a
 * local registry stands in for the steps of the same Dockerfile on engines
 * with fresh data roots (pulled there on demand), through `berth build
 * --cache-from`, `docker build --cache-from` (classic builder API) and a
 * devcontainer.json's build.cacheFrom. Matching follows the history: a
 * changed file in the context breaks it from that COPY on, and a fresh
 * engine without --cache-from runs every step.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ApiClient } from '../src/api/client';
import { runBerth, singleJson, type CliRun } from './support/cli';
import { dockerSocketOf, runDocker } from './support/docker-cli';
import { startEngineFixture, type EngineFixture } from './support/engine-fixture';

let origin: EngineFixture;
const extra: { dir: string; socket: string }[] = [];
let cached = '';
let originId = '';

const DOCKERFILE = (base: string): string => `FROM ${base}
ENV APP=/app
WORKDIR /app
COPY app.txt ./
RUN cat app.txt > copied.txt && echo built > marker
LABEL purpose=cache-from
CMD ["cat", "/app/copied.txt"]
`;
const STEPS_AFTER_FROM = 6;

async function context(files: Record<string, string>): Promise<string> {
  const ctx = await mkdtemp(path.join(origin.dir, 'ctx-'));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(ctx, name)), { recursive: true });
    await writeFile(path.join(ctx, name), text);
  }
  return ctx;
}

/** Another berthd with a data root of its own (nothing stored, nothing cached). */
async function freshEngine(name: string): Promise<{ socket: string; berth: (args: readonly string[]) => Promise<CliRun> }> {
  const dir = await mkdtemp(path.join(origin.dir, `${name}-`));
  const socket = path.join(dir, 'run', 'berth.sock');
  extra.push({ dir, socket });
  const r = await runBerth(['engine', 'start', '--data-root', path.join(dir, 'data'), '--socket', socket]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return { socket, berth: (args) => runBerth([args[0] ?? '', '--socket', socket, ...args.slice(1)]) };
}

async function catIn(socket: string, image: string, file: string): Promise<string> {
  const client = new ApiClient({ socketPath: socket });
  const { id } = await client.call('containerCreate', { body: { image, entrypoint: ['cat'], cmd: [file] } });
  try {
    await client.call('containerStart', { params: { id } });
    await client.call('containerWait', { params: { id } });
    let out = '';
    for await (const l of client.stream('containerLogs', { params: { id } })) out += `${l.line}\n`;
    return out;
  } finally {
    await client.call('containerRemove', { params: { id }, query: { force: 'true' } });
  }
}

before(async () => {
  origin = await startEngineFixture('berth-cache-from-', { pull: true });
  cached = `${origin.registry.host}/cache/app:1`;
  const ctx = await context({ 'Dockerfile': DOCKERFILE(origin.images.latest), 'app.txt': 'original\n' });
  const built = await origin.berth(['build', ctx, '-t', cached]);
  assert.equal(built.code, 0, built.stderr);
  originId = String(singleJson(built.stdout)['id']);
  const pushed = await origin.berth(['push', cached]);
  assert.equal(pushed.code, 0, pushed.stdout + pushed.stderr);
});

after(async () => {
  for (const e of extra) await runBerth(['engine', 'stop', '--socket', e.socket]);
  await origin?.dispose();
  for (const e of extra) await rm(e.dir, { recursive: true, force: true });
});

test('berth build --cache-from on a fresh engine: the pushed image (pulled on demand) stands in for every step; a changed file breaks the match from its COPY on', async () => {
  const engine = await freshEngine('fresh-cli');
  const ctx = await context({ 'Dockerfile': DOCKERFILE(origin.images.latest), 'app.txt': 'original\n' });

  const reused = await engine.berth(['build', ctx, '-t', 'app:reused', '--cache-from', cached]);
  assert.equal(reused.code, 0, reused.stderr);
  const r = singleJson(reused.stdout);
  assert.deepEqual([r['cached'], r['containersCreated'], r['layersWritten']], [STEPS_AFTER_FROM, 0, 0]);
  // The same history, times and layers: the very image that was built on the other engine.
  assert.equal(r['id'], originId);
  assert.equal(reused.stderr.match(/Using cache \(cache-from\)/g)?.length, STEPS_AFTER_FROM);
  assert.equal(await catIn(engine.socket, 'app:reused', '/app/marker'), 'built\n');

  // Another content for app.txt: ENV and WORKDIR still match, COPY and what follows run here.
  const changedCtx = await context({ 'Dockerfile': DOCKERFILE(origin.images.latest), 'app.txt': 'changed\n' });
  const changed = await engine.berth(['build', changedCtx, '-t', 'app:changed', '--cache-from', cached]);
  assert.equal(changed.code, 0, changed.stderr);
  const c = singleJson(changed.stdout);
  assert.deepEqual([c['cached'], c['containersCreated']], [2, 1]);
  assert.equal(await catIn(engine.socket, 'app:changed', '/app/copied.txt'), 'changed\n');

  // A missing cache-from image is left out with a note; the build goes on.
  const missing = await engine.berth(['build', changedCtx, '-t', 'app:changed2', '--cache-from', `${origin.registry.host}/cache/absent:1`]);
  assert.equal(missing.code, 0, missing.stderr);
  assert.match(missing.stderr, /cache-from .*absent:1 left out/);
});

test('a fresh engine without --cache-from runs every step; docker build --cache-from (classic API) reuses them', async () => {
  const plain = await freshEngine('fresh-plain');
  assert.equal((await plain.berth(['pull', origin.images.latest])).code, 0);
  const ctx = await context({ 'Dockerfile': DOCKERFILE(origin.images.latest), 'app.txt': 'original\n' });
  const cold = await plain.berth(['build', ctx, '-t', 'app:cold']);
  assert.equal(cold.code, 0, cold.stderr);
  assert.deepEqual([singleJson(cold.stdout)['cached'], singleJson(cold.stdout)['containersCreated']], [0, 1]);

  const viaDocker = await freshEngine('fresh-docker');
  const out = await runDocker(dockerSocketOf(viaDocker.socket), ['build', '--cache-from', cached, '-t', 'app:docker', '.'], { cwd: ctx, env: { DOCKER_BUILDKIT: '0' } });
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout.match(/Using cache/g)?.length, STEPS_AFTER_FROM, out.stdout);
  assert.doesNotMatch(out.stdout, /Running in/);
  assert.match(out.stdout, new RegExp(`Successfully built ${originId.slice(7, 19)}`));
});

test("devcontainer.json build.cacheFrom: berth build --workspace-folder reuses the pushed image's steps", async () => {
  const engine = await freshEngine('fresh-devcontainer');
  const ws = await context({
    '.devcontainer/Dockerfile': DOCKERFILE(origin.images.latest),
    '.devcontainer/app.txt': 'original\n',
    '.devcontainer/devcontainer.json': JSON.stringify({ build: { dockerfile: 'Dockerfile', context: '.', cacheFrom: cached } }),
  });
  const r = await engine.berth(['build', '--workspace-folder', ws, '--image-name', 'app:devcontainer']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.stderr.match(/Using cache \(cache-from\)/g)?.length, STEPS_AFTER_FROM, r.stderr);
  assert.doesNotMatch(r.stderr, /Running in/);
  assert.equal(await catIn(engine.socket, 'app:devcontainer', '/app/copied.txt'), 'original\n');
});
