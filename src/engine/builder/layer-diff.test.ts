import assert from 'node:assert/strict';
import { link, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { extract } from 'tar-stream';
import { runChecked } from '../../common/process/spawn';
import { ContentStore } from '../content/store';
import { storeDiff } from './layer-diff';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function entries(content: ContentStore, digest: `sha256:${string}`): Promise<string[]> {
  const out: string[] = [];
  const x = extract();
  x.on('entry', (h, stream, next) => {
    out.push(`${h.type}:${h.name}${h.linkname ? `->${h.linkname}` : ''}`);
    stream.on('end', next);
    stream.resume();
  });
  const done = new Promise<void>((resolve, reject) => x.on('finish', () => resolve()).on('error', reject));
  content.openRead(digest).pipe(x);
  await done;
  return out;
}

test('an overlay upper as a layer: whiteouts, opaque directories, hard and symbolic links, runtime mount points left out (as root)', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'berth-diff-'));
  dirs.push(root);
  const upper = path.join(root, 'upper');
  const lower = path.join(root, 'lower');
  await mkdir(path.join(upper, 'etc'), { recursive: true });
  await mkdir(path.join(upper, 'opq'), { recursive: true });
  await mkdir(path.join(upper, 'proc'));
  await mkdir(path.join(lower, 'sys'), { recursive: true });
  await mkdir(path.join(upper, 'sys'));
  await writeFile(path.join(upper, 'etc', 'a'), 'a');
  await link(path.join(upper, 'etc', 'a'), path.join(upper, 'etc', 'b'));
  await symlink('/etc/a', path.join(upper, 'ln'));
  await writeFile(path.join(upper, 'opq', 'new'), 'n');
  await runChecked(['setfattr', '-n', 'trusted.overlay.opaque', '-v', 'y', path.join(upper, 'opq')]);
  await runChecked(['mknod', path.join(upper, 'etc', 'gone'), 'c', '0', '0']);
  const content = new ContentStore(path.join(root, 'content'));
  const target = { dir: upper, mode: 'overlay' as const, lowers: [lower] };
  const { layer, exact } = await storeDiff(content, target, { runtimeArtifacts: ['proc', 'sys'] });
  assert.equal(layer.digest, layer.diffId);
  assert.deepEqual(await entries(content, layer.digest), [
    'directory:etc/',
    'file:etc/a',
    'link:etc/b->etc/a',
    'file:etc/.wh.gone',
    'symlink:ln->/etc/a',
    'directory:opq/',
    'file:opq/.wh..wh..opq',
    'file:opq/new',
    // proc: made by the runtime, left out; sys: the image has it (a lower), kept.
    'directory:sys/',
  ]);
  assert.equal(exact, false, 'a runtime mount point was left out');

  // File capabilities are not carried yet: such a diff is not exact either.
  await rm(path.join(upper, 'proc'), { recursive: true });
  assert.equal((await storeDiff(content, target, { runtimeArtifacts: ['proc'] })).exact, true);
  await runChecked(['setfattr', '-n', 'security.capability', '-v', '0sAQAAAgAgAAAAAAAAAAAAAAAAAAA=', path.join(upper, 'etc', 'a')]);
  assert.equal((await storeDiff(content, target)).exact, false);
});

test("removeMountPoints: the runtime's empty mount points leave the snapshot (its directories' times kept) and the diff is exact; anything else at such a path is left out", async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'berth-diff-'));
  dirs.push(root);
  const upper = path.join(root, 'upper');
  const lower = path.join(root, 'lower');
  await mkdir(path.join(lower, 'etc'), { recursive: true });
  await mkdir(path.join(upper, 'etc'), { recursive: true });
  await mkdir(path.join(upper, 'proc'));
  await writeFile(path.join(upper, 'etc', 'hosts'), '');
  await writeFile(path.join(upper, 'etc', 'app.conf'), 'made by RUN\n');
  const when = new Date('2020-01-02T03:04:05Z');
  await utimes(path.join(upper, 'etc'), when, when);
  const content = new ContentStore(path.join(root, 'content'));
  const target = { dir: upper, mode: 'overlay' as const, lowers: [lower] };
  const artifacts = ['proc', 'etc/hosts', 'etc/hostname'];
  const { layer, exact } = await storeDiff(content, target, { runtimeArtifacts: artifacts, removeMountPoints: true });
  assert.equal(exact, true);
  assert.deepEqual(await entries(content, layer.digest), ['directory:etc/', 'file:etc/app.conf']);
  assert.deepEqual((await readdir(upper)).sort(), ['etc']);
  assert.deepEqual((await readdir(path.join(upper, 'etc'))).sort(), ['app.conf']);
  assert.equal((await stat(path.join(upper, 'etc'))).mtime.getTime(), when.getTime(), "etc's time as before");

  // Written at a mount point's path (not empty): left out and kept, so the diff is not exact.
  await writeFile(path.join(upper, 'etc', 'hostname'), 'not a placeholder\n');
  const second = await storeDiff(content, target, { runtimeArtifacts: artifacts, removeMountPoints: true });
  assert.equal(second.exact, false);
  assert.deepEqual(await entries(content, second.layer.digest), ['directory:etc/', 'file:etc/app.conf']);
  assert.equal(await readFile(path.join(upper, 'etc', 'hostname'), 'utf8'), 'not a placeholder\n');

  // Native snapshots: the same against the parent's tree.
  const tree = path.join(root, 'tree');
  const parentTree = path.join(root, 'parent');
  await mkdir(path.join(parentTree, 'etc'), { recursive: true });
  await mkdir(path.join(tree, 'etc'), { recursive: true });
  await mkdir(path.join(tree, 'proc'));
  await writeFile(path.join(tree, 'etc', 'hosts'), '');
  const native = await storeDiff(content, { dir: tree, mode: 'native' as const, lowers: [] }, { runtimeArtifacts: artifacts, removeMountPoints: true, parentTree });
  assert.equal(native.exact, true);
  assert.deepEqual((await readdir(tree)).sort(), ['etc']);
  assert.deepEqual(await readdir(path.join(tree, 'etc')), []);
});
