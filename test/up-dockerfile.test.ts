/**
 * `berth up` for Dockerfile-based configurations: build args, a context
 * above .devcontainer with its .dockerignore, the built image's metadata
 * label, a fully cached rebuild, --build-no-cache, and a failing RUN.
 * Real berthd, builder, runc/crun and registry.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runBerth, singleJson } from './support/cli';
import { startEngineFixture, type EngineFixture } from './support/engine-fixture';
import type { TestImages } from './support/test-images';

let fx: EngineFixture | undefined;
let dir = '';
let images: TestImages;

const berth = (args: readonly string[]): ReturnType<typeof runBerth> => (fx as EngineFixture).berth(args);

async function workspace(name: string, dockerfile: string, config: object): Promise<string> {
  const ws = path.join(dir, name);
  await mkdir(path.join(ws, '.devcontainer'), { recursive: true });
  await writeFile(path.join(ws, '.devcontainer', 'Dockerfile'), dockerfile);
  await writeFile(path.join(ws, '.devcontainer', 'devcontainer.json'), JSON.stringify(config, null, 2));
  await writeFile(path.join(ws, 'hello.txt'), 'hello\n');
  await writeFile(path.join(ws, 'secret.txt'), 'do not send\n');
  await writeFile(path.join(ws, '.dockerignore'), 'secret.txt\n');
  return ws;
}

before(async () => {
  fx = await startEngineFixture('berth-up-dockerfile-');
  ({ dir, images } = fx);
});

after(async () => {
  await fx?.dispose();
});

test('up builds the Dockerfile (args, context, .dockerignore, metadata label), then rebuilds from the cache', async () => {
  const dockerfile = [
    `FROM ${images.latest}`,
    'ARG GREETING=hi',
    'ENV FROM_DOCKERFILE=yes',
    `LABEL devcontainer.metadata='[{"remoteEnv":{"META":"from-the-label"}}]'`,
    'RUN echo "$GREETING from $(id -un)" > /greeting',
    'COPY . /src',
    '',
  ].join('\n');
  const ws = await workspace('df-one', dockerfile, { build: { dockerfile: 'Dockerfile', context: '..', args: { GREETING: 'hello' } }, remoteUser: 'app' });
  const first = await berth(['up', '--workspace-folder', ws]);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.equal(singleJson(first.stdout)['remoteUser'], 'app');
  const e = await berth(['exec', '--workspace-folder', ws, '--', 'sh', '-c', 'cat /greeting; echo "$FROM_DOCKERFILE $META"; ls /src']);
  assert.equal(e.code, 0, e.stderr);
  const lines = e.stdout.trim().split('\n');
  assert.deepEqual(lines.slice(0, 2), ['hello from root', 'yes from-the-label']);
  assert.ok(lines.includes('hello.txt') && !lines.includes('secret.txt'), lines.join(' '));
  assert.equal((await berth(['down', '--workspace-folder', ws])).code, 0);

  const again = await berth(['up', '--workspace-folder', ws]);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.match(again.stderr, /image berth-df-one-[0-9a-f]{12}: 4 of 6 steps from the cache, 0 layers written/, 'a rebuild writes nothing');
  assert.doesNotMatch(again.stderr, /from root/, 'no RUN ran again');
  assert.equal((await berth(['down', '--workspace-folder', ws])).code, 0);

  const fresh = await berth(['up', '--workspace-folder', ws, '--build-no-cache']);
  assert.equal(fresh.code, 0, fresh.stdout + fresh.stderr);
  assert.match(fresh.stderr, /image berth-df-one-[0-9a-f]{12}: 0 of 6 steps from the cache, [1-9]\d* layers written/);
  assert.equal((await berth(['down', '--workspace-folder', ws])).code, 0);
});

test('a failing RUN stops up with the step and its exit code; no container is left', async () => {
  const ws = await workspace('df-bad', `FROM ${images.latest}\nRUN echo building; exit 7\n`, { build: { dockerfile: 'Dockerfile' } });
  const r = await berth(['up', '--workspace-folder', ws]);
  assert.equal(r.code, 1);
  const message = String(singleJson(r.stdout)['message']);
  assert.match(message, /building the dev container image failed/);
  assert.match(message, /\b7\b/);
  const listed = singleJson((await berth(['list'])).stdout)['containers'] as { workspaceFolder: string }[];
  assert.ok(!listed.some((c) => c.workspaceFolder === ws));
});
