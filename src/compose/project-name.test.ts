import assert from 'node:assert/strict';
import { test } from 'node:test';
import { devContainerProjectName, normalizeProjectName, projectName } from './project-name';

test('normalizeProjectName: lowercase, [a-z0-9_-] only, no leading - or _', () => {
  assert.equal(normalizeProjectName('My App.v2'), 'myappv2');
  assert.equal(normalizeProjectName('__-x_y-Z'), 'x_y-z');
  assert.throws(() => projectName({ workingDir: '/tmp/...' }), /no valid project name/);
});

test("devContainerProjectName: the reference CLI's rules", () => {
  const base = { workspaceFolder: '/src/My Repo' };
  assert.equal(devContainerProjectName({ ...base, composeFiles: ['/src/My Repo/.devcontainer/docker-compose.yml'] }), 'myrepo_devcontainer');
  assert.equal(devContainerProjectName({ ...base, composeFiles: ['/src/My Repo/docker-compose.yml'] }), 'myrepo');
  assert.equal(devContainerProjectName({ ...base, composeFiles: ['/src/My Repo/.devcontainer/sub/c.yml'] }), 'sub');
  assert.equal(devContainerProjectName({ ...base, fileName: 'Named', composeFiles: ['/src/My Repo/.devcontainer/c.yml'] }), 'named');
  assert.equal(devContainerProjectName({ ...base, dotEnv: 'dot', fileName: 'Named', composeFiles: ['/x/c.yml'] }), 'dot');
  assert.equal(devContainerProjectName({ ...base, env: 'Env', dotEnv: 'dot', composeFiles: ['/x/c.yml'] }), 'env');
});
