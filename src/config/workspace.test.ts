import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { runChecked } from '../common/process/spawn';
import { bindMountString, findGitRoot, workspaceConfiguration } from './workspace';

const dirs: string[] = [];
after(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-ws-'));
  dirs.push(dir);
  return dir;
}

test('defaults: the folder is mounted at /workspaces/<basename>', async () => {
  const dir = path.join(await tempDir(), 'my-app');
  await mkdir(dir);
  assert.deepEqual(await workspaceConfiguration({ image: 'x' }, dir), {
    workspaceFolder: '/workspaces/my-app',
    workspaceMount: `type=bind,source=${dir},target=/workspaces/my-app`,
  });
});

test('inside a git repository the root is mounted and the folder is relative to it', async () => {
  const repo = path.join(await tempDir(), 'repo');
  const sub = path.join(repo, 'packages', 'web');
  await mkdir(sub, { recursive: true });
  await runChecked(['git', 'init', '-q', repo]);
  assert.equal(await findGitRoot(sub), repo);
  assert.deepEqual(await workspaceConfiguration({ image: 'x' }, sub), {
    workspaceFolder: '/workspaces/repo/packages/web',
    workspaceMount: `type=bind,source=${repo},target=/workspaces/repo`,
  });
  assert.deepEqual(await workspaceConfiguration({ image: 'x' }, sub, { mountGitRoot: false }), {
    workspaceFolder: '/workspaces/web',
    workspaceMount: `type=bind,source=${sub},target=/workspaces/web`,
  });
});

test('not a repository: no git root', async () => {
  assert.equal(await findGitRoot(await tempDir()), undefined);
});

test('set properties win; compose defaults to /', async () => {
  const dir = await tempDir();
  assert.deepEqual(await workspaceConfiguration({ image: 'x', workspaceFolder: '/src' }, dir), {
    workspaceFolder: '/src',
    workspaceMount: `type=bind,source=${dir},target=/workspaces/${path.basename(dir)}`,
  });
  assert.deepEqual(await workspaceConfiguration({ image: 'x', workspaceFolder: '/src', workspaceMount: 'm' }, dir), {
    workspaceFolder: '/src',
    workspaceMount: 'm',
  });
  assert.deepEqual(await workspaceConfiguration({ dockerComposeFile: 'c.yml', service: 's' }, dir), { workspaceFolder: '/' });
  assert.deepEqual(await workspaceConfiguration({ dockerComposeFile: 'c.yml', workspaceFolder: '/w' }, dir), { workspaceFolder: '/w' });
});

test('paths with commas are quoted in mount strings', () => {
  assert.equal(bindMountString('/a,b', '/workspaces/a,b'), 'type=bind,source="/a,b",target="/workspaces/a,b"');
});
