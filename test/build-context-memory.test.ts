/**
 * `berth build` sends no context the engine has already when nothing in it
 * changed (a fingerprint of every entry's stat, ctime included, remembered
 * per user), on a real berthd: a rebuild names the earlier context; a file
 * rewritten with the same size, a new file, and an engine that dropped the
 * context all send the tar again; a context changed moments before a build
 * is not remembered.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { singleJson } from './support/cli';
import { startEngineFixture, type EngineFixture } from './support/engine-fixture';

let engine: EngineFixture;
let env: NodeJS.ProcessEnv;
const NOTE = /Using the build context sent before \(sha256:([0-9a-f]{12}), unchanged\)/;
/** Longer than the CLI waits before it trusts a context's stats. */
const SETTLE_MS = 3200;

async function build(ctx: string): Promise<{ result: Record<string, unknown>; stderr: string }> {
  const r = await engine.berth(['build', ctx, '-t', 'memory:1'], { env });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return { result: singleJson(r.stdout), stderr: r.stderr };
}

before(async () => {
  engine = await startEngineFixture('berth-ctx-memory-', { pull: true });
  env = { ...process.env, XDG_CACHE_HOME: await mkdtemp(path.join(engine.dir, 'cache-')) };
});

after(async () => {
  await engine?.dispose();
});

test('an unchanged context is named, not sent; any change to it (same size too) or a context the engine dropped sends the tar', async () => {
  const ctx = await mkdtemp(path.join(engine.dir, 'ctx-'));
  await writeFile(path.join(ctx, 'Dockerfile'), `FROM ${engine.images.latest}\nCOPY app.txt /app.txt\nRUN cat /app.txt\n`);
  await writeFile(path.join(ctx, 'app.txt'), 'version A\n');

  // Just written: sent, and not remembered (a write in the same timestamp tick would go unseen).
  const fresh = await build(ctx);
  assert.doesNotMatch(fresh.stderr, NOTE);
  const again = await build(ctx);
  assert.doesNotMatch(again.stderr, NOTE);

  await sleep(SETTLE_MS);
  const sent = await build(ctx);
  assert.doesNotMatch(sent.stderr, NOTE);
  const named = await build(ctx);
  const m = NOTE.exec(named.stderr);
  assert.ok(m, named.stderr);
  assert.equal(named.result['id'], sent.result['id']);
  assert.equal(named.result['containersCreated'], 0);
  // The context named is the one the engine stored from the tar sent before.
  const memory = JSON.parse(await readFile(path.join(env['XDG_CACHE_HOME'] ?? '', 'berth', 'build-contexts.json'), 'utf8')) as Record<string, { digest: string }>;
  const digest = Object.values(memory)[0]?.digest ?? '';
  assert.ok(digest.startsWith(m[1] ?? '-'));

  // Same size, other content: its ctime moved, so the tar goes again and the COPY runs again.
  await writeFile(path.join(ctx, 'app.txt'), 'version B\n');
  const changed = await build(ctx);
  assert.doesNotMatch(changed.stderr, NOTE);
  assert.match(changed.stderr, /version B/);
  assert.notEqual(changed.result['id'], sent.result['id']);

  // A new file (even one the Dockerfile does not read) is a new context.
  await sleep(SETTLE_MS);
  assert.doesNotMatch((await build(ctx)).stderr, NOTE);
  assert.match((await build(ctx)).stderr, NOTE);
  await writeFile(path.join(ctx, 'other.txt'), 'x\n');
  assert.doesNotMatch((await build(ctx)).stderr, NOTE);

  // The engine dropped the context it had: the CLI sends the tar and the build succeeds.
  await sleep(SETTLE_MS);
  const before = await build(ctx);
  assert.doesNotMatch(before.stderr, NOTE);
  const stored = JSON.parse(await readFile(path.join(env['XDG_CACHE_HOME'] ?? '', 'berth', 'build-contexts.json'), 'utf8')) as Record<string, { digest: string; at: number }>;
  const latest = Object.values(stored).sort((a, b) => b.at - a.at)[0]?.digest ?? '';
  await rm(path.join(engine.dir, 'data', 'builder', 'contexts', latest), { recursive: true, force: true });
  const fallback = await build(ctx);
  assert.match(fallback.stderr, NOTE);
  assert.equal(fallback.result['id'], before.result['id']);
  assert.equal(fallback.result['containersCreated'], 0);
  // Sent again, the engine has it again.
  assert.match((await build(ctx)).stderr, NOTE);
});
