import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { BerthError } from '../common/errors';
import { chooseConfigFile, findConfigFiles } from './discover';

const dirs: string[] = [];
after(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function workspace(files: string[]): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-discover-'));
  dirs.push(dir);
  for (const f of files) {
    await mkdir(path.dirname(path.join(dir, f)), { recursive: true });
    await writeFile(path.join(dir, f), '{}');
  }
  return dir;
}

test('finds every configuration, well-known ones first', async () => {
  const dir = await workspace(['.devcontainer/b/devcontainer.json', '.devcontainer.json', '.devcontainer/devcontainer.json', '.devcontainer/a/devcontainer.json', '.devcontainer/c/other.json']);
  assert.deepEqual(
    (await findConfigFiles(dir)).map((f) => path.relative(dir, f)),
    ['.devcontainer/devcontainer.json', '.devcontainer.json', '.devcontainer/a/devcontainer.json', '.devcontainer/b/devcontainer.json'],
  );
});

test('prefers .devcontainer/devcontainer.json, then .devcontainer.json', async () => {
  const both = await workspace(['.devcontainer.json', '.devcontainer/devcontainer.json']);
  assert.equal(await chooseConfigFile(both, undefined), path.join(both, '.devcontainer/devcontainer.json'));
  const root = await workspace(['.devcontainer.json', '.devcontainer/x/devcontainer.json']);
  assert.equal(await chooseConfigFile(root, undefined), path.join(root, '.devcontainer.json'));
});

test('a single named configuration is used; several must be chosen with --config', async () => {
  const one = await workspace(['.devcontainer/python/devcontainer.json']);
  assert.equal(await chooseConfigFile(one, undefined), path.join(one, '.devcontainer/python/devcontainer.json'));
  const two = await workspace(['.devcontainer/python/devcontainer.json', '.devcontainer/node/devcontainer.json']);
  await assert.rejects(chooseConfigFile(two, undefined), (e: unknown) => {
    assert.ok(BerthError.is(e, 'failed_precondition'));
    assert.match(e.message, /2 dev container configurations; choose one with --config/);
    assert.match(e.message, /\.devcontainer\/node\/devcontainer\.json/);
    assert.match(e.message, /\.devcontainer\/python\/devcontainer\.json/);
    return true;
  });
  const chosen = path.join(two, '.devcontainer/node/devcontainer.json');
  assert.equal(await chooseConfigFile(two, chosen), chosen);
});

test('missing configurations are not_found errors naming the path', async () => {
  const empty = await workspace([]);
  await assert.rejects(chooseConfigFile(empty, undefined), (e: unknown) => BerthError.is(e, 'not_found') && e.message.includes(path.join(empty, '.devcontainer/devcontainer.json')));
  await assert.rejects(chooseConfigFile(empty, path.join(empty, 'nope.json')), (e: unknown) => BerthError.is(e, 'not_found') && e.message.includes('nope.json'));
});
