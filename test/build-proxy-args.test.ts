/**
 * Docker's predefined proxy build args (HTTP_PROXY and friends), end to end on
 * a real berthd: RUN sees them without an ARG; undeclared, they are kept out
 * of the image history and of the cache key; declared with ARG they are
 * ordinary build args.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ApiClient } from '../src/api/client';
import { singleJson } from './support/cli';
import { containerOutput } from './support/container-output';
import { startEngineFixture, type EngineFixture } from './support/engine-fixture';

let engine: EngineFixture;
let client: ApiClient;

before(async () => {
  engine = await startEngineFixture('berth-proxy-args-', { pull: true });
  client = new ApiClient({ socketPath: engine.socket });
});

after(async () => {
  await engine?.dispose();
});

async function build(dockerfile: string, tag: string, args: string[]): Promise<{ id: string; stderr: string }> {
  const ctx = await mkdtemp(path.join(engine.dir, 'ctx-'));
  await writeFile(path.join(ctx, 'Dockerfile'), dockerfile);
  const r = await engine.berth(['build', ctx, '-t', tag, ...args.flatMap((a) => ['--build-arg', a])]);
  assert.equal(r.code, 0, r.stderr);
  return { id: String(singleJson(r.stdout)['id']), stderr: r.stderr };
}

async function history(tag: string): Promise<string> {
  const image = await client.call('imageInspect', { params: { name: tag } });
  return JSON.stringify(image.config.history ?? []);
}

test('undeclared proxy args reach RUN, stay out of the history, and do not change the cache key', async () => {
  const dockerfile = `FROM ${engine.images.latest}\nRUN echo "proxy=$HTTP_PROXY no=$no_proxy other=\${OTHER:-unset}" > /proxy\n`;
  const first = await build(dockerfile, 'proxy-args:1', ['HTTP_PROXY=http://user:secret@proxy.invalid:3128', 'no_proxy=localhost', 'OTHER=x']);
  assert.equal(await containerOutput(client, 'proxy-args:1', 'cat /proxy'), 'proxy=http://user:secret@proxy.invalid:3128 no=localhost other=unset\n');
  assert.doesNotMatch(await history('proxy-args:1'), /secret|proxy\.invalid/);
  // Another proxy: the same cached step (Docker's classic builder does the same).
  const second = await build(dockerfile, 'proxy-args:2', ['HTTP_PROXY=http://other.invalid:8080']);
  assert.match(second.stderr, /Using cache/);
  assert.equal(second.id, first.id);
});

test('a declared proxy arg is an ordinary build arg: in the cache key and the history', async () => {
  const dockerfile = `FROM ${engine.images.latest}\nARG HTTPS_PROXY\nRUN echo "https=$HTTPS_PROXY" > /proxy\n`;
  const a = await build(dockerfile, 'proxy-declared:1', ['HTTPS_PROXY=http://a.invalid:1']);
  const b = await build(dockerfile, 'proxy-declared:2', ['HTTPS_PROXY=http://b.invalid:2']);
  assert.notEqual(a.id, b.id);
  assert.equal(await containerOutput(client, 'proxy-declared:2', 'cat /proxy'), 'https=http://b.invalid:2\n');
  assert.match(await history('proxy-declared:2'), /b\.invalid/);
});
