/**
 * ONBUILD triggers, end to end on a real berthd: an image that declares them
 * does not run them itself; a build FROM it runs them right after FROM, in
 * order, in the child's context, and the child's config no longer carries
 * them (a grandchild runs nothing). A trigger that fails names the FROM line.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ApiClient } from '../src/api/client';
import { singleJson } from './support/cli';
import { containerOutput } from './support/container-output';
import { startEngineFixture, type EngineFixture } from './support/engine-fixture';

let engine: EngineFixture;
let client: ApiClient;

async function context(files: Record<string, string>): Promise<string> {
  const ctx = await mkdtemp(path.join(engine.dir, 'ctx-'));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(ctx, name)), { recursive: true });
    await writeFile(path.join(ctx, name), text);
  }
  return ctx;
}

async function build(ctx: string, tag: string): Promise<{ code: number | null; result: Record<string, unknown>; stderr: string }> {
  const r = await engine.berth(['build', ctx, '-t', tag]);
  return { code: r.code, result: singleJson(r.stdout), stderr: r.stderr };
}

/** `ls`/`cat` output of `script` run by sh in a container of `image`. */
function sh(image: string, script: string): Promise<string> {
  return containerOutput(client, image, script);
}

before(async () => {
  engine = await startEngineFixture('berth-onbuild-', { pull: true });
  client = new ApiClient({ socketPath: engine.socket });
});

after(async () => {
  await engine?.dispose();
});

test('ONBUILD triggers run in the child build, in order, in its context, and are cleared from the child', async () => {
  const parentCtx = await context({
    'Dockerfile': `FROM ${engine.images.latest}
RUN mkdir /app
ONBUILD COPY app.txt /app/
ONBUILD RUN cat /app/app.txt > /app/copied && echo "trigger ran: $(cat /app/app.txt)"
ONBUILD ENV FROM_TRIGGER=yes
`,
    'app.txt': 'parent content\n',
  });
  const parent = await build(parentCtx, 'onbuild-parent:1');
  assert.equal(parent.code, 0, parent.stderr);
  assert.doesNotMatch(parent.stderr, /build trigger|trigger ran: parent/);
  const parentImage = await client.call('imageInspect', { params: { name: 'onbuild-parent:1' } });
  assert.deepEqual(parentImage.config.config?.OnBuild, ['COPY app.txt /app/', 'RUN cat /app/app.txt > /app/copied && echo "trigger ran: $(cat /app/app.txt)"', 'ENV FROM_TRIGGER=yes']);
  // The parent itself has none of what its triggers do.
  assert.equal(await sh('onbuild-parent:1', 'ls -A /app; echo "env=${FROM_TRIGGER:-}"'), 'env=\n');

  const childCtx = await context({ 'Dockerfile': 'FROM onbuild-parent:1\nRUN echo "after: $FROM_TRIGGER" > /app/after\n', 'app.txt': 'child content\n' });
  const child = await build(childCtx, 'onbuild-child:1');
  assert.equal(child.code, 0, child.stderr);
  assert.match(child.stderr, /# Executing 3 build triggers/);
  assert.match(child.stderr, /trigger ran: child content/);
  // The triggers ran between FROM and the child's first instruction.
  assert.ok(child.stderr.indexOf('trigger ran') < child.stderr.indexOf('Step 2/2'), child.stderr);
  assert.equal(await sh('onbuild-child:1', 'cat /app/app.txt /app/copied /app/after'), 'child content\nchild content\nafter: yes\n');
  const childImage = await client.call('imageInspect', { params: { name: 'onbuild-child:1' } });
  assert.ok((childImage.config.config?.OnBuild ?? []).length === 0, JSON.stringify(childImage.config.config));
  assert.ok(childImage.config.config?.Env?.includes('FROM_TRIGGER=yes'));

  // Built again: the triggers' steps come from the cache like any other.
  const again = await build(childCtx, 'onbuild-child:2');
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.result['id'], child.result['id']);
  assert.equal(again.result['containersCreated'], 0);

  // A grandchild runs nothing: the child carries no triggers.
  const grandCtx = await context({ 'Dockerfile': 'FROM onbuild-child:1\nRUN test ! -e /app/grand\n' });
  const grand = await build(grandCtx, 'onbuild-grand:1');
  assert.equal(grand.code, 0, grand.stderr);
  assert.doesNotMatch(grand.stderr, /build trigger/);
});

test('a failing ONBUILD trigger fails the child build at its FROM line', async () => {
  const parentCtx = await context({ 'Dockerfile': `FROM ${engine.images.latest}\nONBUILD RUN echo from-trigger && exit 3\n` });
  assert.equal((await build(parentCtx, 'onbuild-bad:1')).code, 0);
  const childCtx = await context({ 'Dockerfile': '# a comment\n\nFROM onbuild-bad:1\nRUN true\n' });
  const child = await build(childCtx, 'onbuild-bad-child:1');
  assert.equal(child.code, 1);
  assert.match(String(child.result['message']), /Dockerfile:3: RUN echo from-trigger && exit 3: .*returned a non-zero code: 3/);
  assert.match(String(child.result['message']), /from-trigger/);
});
