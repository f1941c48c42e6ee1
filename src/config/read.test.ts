import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { BerthError } from '../common/errors';
import { moveDeprecatedProperties, readConfiguration } from './read';

const dirs: string[] = [];
after(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function workspace(config: string, name = 'proj'): Promise<string> {
  const dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'berth-read-')), name);
  dirs.push(path.dirname(dir));
  await mkdir(path.join(dir, '.devcontainer'), { recursive: true });
  await writeFile(path.join(dir, '.devcontainer', 'devcontainer.json'), config);
  return dir;
}

test('reads, substitutes and computes the workspace', async () => {
  const dir = await workspace(`{
    // a comment
    "image": "debian",
    "name": "\${localWorkspaceFolderBasename} on \${localEnv:WHO:nobody}",
    "workspaceFolder": "/src/\${localWorkspaceFolderBasename}",
    "containerEnv": { "WS": "\${containerWorkspaceFolder}", "BASE": "\${containerWorkspaceFolderBasename}" },
    "remoteEnv": { "PATH": "\${containerEnv:PATH}:/x" },
    "mounts": ["source=\${localWorkspaceFolder}/cache,target=/cache,type=bind"],
    "features": { "x:1": { "user": "\${localEnv:WHO}" } },
  }`);
  const result = await readConfiguration({ workspaceFolder: dir, env: { WHO: 'ana' }, mountGitRoot: false });
  assert.equal(result.configFile, path.join(dir, '.devcontainer', 'devcontainer.json'));
  assert.deepEqual(result.config, {
    image: 'debian',
    name: 'proj on ana',
    workspaceFolder: '/src/proj',
    containerEnv: { WS: '/src/proj', BASE: 'proj' },
    remoteEnv: { PATH: '${containerEnv:PATH}:/x' },
    mounts: [`source=${dir}/cache,target=/cache,type=bind`],
    features: { 'x:1': { user: 'ana' } },
  });
  assert.deepEqual(result.workspace, { workspaceFolder: '/src/proj', workspaceMount: `type=bind,source=${dir},target=/workspaces/proj` });
  assert.equal(result.raw['name'], '${localWorkspaceFolderBasename} on ${localEnv:WHO:nobody}');
});

test('deprecated top-level vscode properties move into customizations.vscode', () => {
  assert.deepEqual(
    moveDeprecatedProperties({
      image: 'a',
      extensions: ['a.b'],
      settings: { x: 1, y: 1 },
      devPort: 8000,
      customizations: { vscode: { extensions: ['c.d'], settings: { y: 2 } }, other: {} },
    }),
    { image: 'a', customizations: { vscode: { extensions: ['c.d', 'a.b'], settings: { x: 1, y: 2 }, devPort: 8000 }, other: {} } },
  );
  const plain = { image: 'a' };
  assert.deepEqual(moveDeprecatedProperties(plain), plain);
});

test('invalid configurations fail with the file and position; nothing is substituted', async () => {
  const dir = await workspace('{\n  "image": 12\n}');
  await assert.rejects(readConfiguration({ workspaceFolder: dir, env: {} }), (e: unknown) => {
    assert.ok(BerthError.is(e, 'invalid_argument'));
    assert.match(e.message, /devcontainer\.json:2:12: error: image: expected a non-empty string, got number 12/);
    return true;
  });
});

test('cancellation is honoured', async () => {
  const dir = await workspace('{ "image": "a" }');
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(readConfiguration({ workspaceFolder: dir, env: {}, signal: controller.signal }));
});
