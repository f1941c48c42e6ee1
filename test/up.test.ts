/**
 * `berth up`, `exec`, `stop`, `down` and `list` end to end: a workspace with
 * an image-based devcontainer.json, a real berthd, runc/crun and registry.
 * Checks the result contract, the workspace mount, containerEnv/remoteEnv,
 * the remote user, the hooks' order and once-only markers, reuse of the
 * existing container, and a failing hook reported with its exit code.
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

async function workspace(name: string, config: object): Promise<string> {
  const ws = path.join(dir, name);
  await mkdir(path.join(ws, '.devcontainer'), { recursive: true });
  await writeFile(path.join(ws, '.devcontainer', 'devcontainer.json'), JSON.stringify(config, null, 2));
  await writeFile(path.join(ws, 'hello.txt'), 'from the host\n');
  return ws;
}

const berth = (args: readonly string[]): ReturnType<typeof runBerth> => (fx as EngineFixture).berth(args);

before(async () => {
  fx = await startEngineFixture('berth-up-');
  ({ dir, images } = fx);
});

after(async () => {
  await fx?.dispose();
});

test('berth up: a new container, hooks in order, then exec as the remote user in the workspace', async () => {
  const ws = await workspace('app-one', {
    image: images.latest,
    remoteUser: 'app',
    containerEnv: { FOO: 'bar' },
    remoteEnv: { BAR: '${containerEnv:FOO}-remote' },
    onCreateCommand: 'echo onCreate >> /tmp/hooks',
    updateContentCommand: ['sh', '-c', 'echo updateContent >> /tmp/hooks'],
    postCreateCommand: 'echo postCreate >> /tmp/hooks',
    postStartCommand: { a: 'echo postStart-a >> /tmp/hooks', b: 'echo postStart-b >> /tmp/hooks' },
    postAttachCommand: 'echo postAttach >> /tmp/hooks',
  });
  const first = await berth(['up', '--workspace-folder', ws]);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  const result = singleJson(first.stdout);
  assert.equal(result['outcome'], 'success');
  assert.equal(result['remoteUser'], 'app');
  assert.equal(result['remoteWorkspaceFolder'], '/workspaces/app-one');
  assert.equal(result['created'], true);
  const containerId = String(result['containerId']);

  const exec = await berth(['exec', '--workspace-folder', ws, '--', 'sh', '-c', 'cat /tmp/hooks; echo "$FOO $BAR"; pwd; id -u; cat hello.txt']);
  assert.equal(exec.code, 0, exec.stderr);
  const lines = exec.stdout.trim().split('\n');
  assert.deepEqual(lines.slice(0, 3), ['onCreate', 'updateContent', 'postCreate']);
  assert.deepEqual(lines.slice(3, 5).sort(), ['postStart-a', 'postStart-b']);
  assert.deepEqual(lines.slice(5), ['postAttach', 'bar bar-remote', '/workspaces/app-one', '1000', 'from the host']);
  assert.equal((await berth(['exec', '--workspace-folder', ws, '--', 'sh', '-c', 'exit 9'])).code, 9, 'the exit code comes back');

  // Again: the same container, create-time hooks do not run twice, postStart only after a start.
  const again = singleJson((await berth(['up', '--workspace-folder', ws])).stdout);
  assert.equal(again['containerId'], containerId);
  assert.equal(again['created'], false);
  assert.deepEqual(again['hooks'], { onCreateCommand: 'skipped', updateContentCommand: 'skipped', postCreateCommand: 'skipped', postStartCommand: 'skipped', postAttachCommand: 'ran' });

  const stopped = await berth(['stop', '--workspace-folder', ws]);
  assert.equal(stopped.code, 0, stopped.stdout);
  const restarted = singleJson((await berth(['up', '--workspace-folder', ws])).stdout);
  assert.equal(restarted['containerId'], containerId);
  assert.equal((restarted['hooks'] as Record<string, string>)['postStartCommand'], 'ran');
  const hooks = await berth(['exec', '--workspace-folder', ws, '--', 'cat', '/tmp/hooks']);
  assert.equal(hooks.stdout.split('\n').filter((l) => l === 'onCreate').length, 1, 'onCreate ran once');
  assert.equal(hooks.stdout.split('\n').filter((l) => l.startsWith('postStart-a')).length, 2, 'postStart ran after each start');

  const listed = singleJson((await berth(['list'])).stdout)['containers'] as { id: string; workspaceFolder: string }[];
  assert.ok(listed.some((c) => c.id === containerId && c.workspaceFolder === ws));

  const down = await berth(['down', '--workspace-folder', ws]);
  assert.equal(down.code, 0, down.stdout);
  const gone = await berth(['exec', '--workspace-folder', ws, '--', 'true']);
  assert.notEqual(gone.code, 0);
  assert.match(gone.stdout, /no dev container/);
  const fresh = singleJson((await berth(['up', '--workspace-folder', ws, '--remove-existing-container'])).stdout);
  assert.notEqual(fresh['containerId'], containerId);
  assert.equal((await berth(['down', '--workspace-folder', ws])).code, 0);
});

test('berth up: a failing hook stops the rest and says which, with its exit code and output', async () => {
  const ws = await workspace('app-fail', {
    image: images.latest,
    postCreateCommand: 'echo about to fail; exit 3',
    postAttachCommand: 'echo never > /tmp/attached',
  });
  const r = await berth(['up', '--workspace-folder', ws]);
  assert.equal(r.code, 1);
  const out = singleJson(r.stdout);
  assert.equal(out['outcome'], 'error');
  assert.match(String(out['message']), /postCreateCommand failed with exit code 3/);
  assert.match(String(out['message']), /about to fail/);
  const attached = await berth(['exec', '--workspace-folder', ws, '--', 'test', '-e', '/tmp/attached']);
  assert.equal(attached.code, 1, 'postAttach did not run');
  await berth(['down', '--workspace-folder', ws]);
});

test('berth up with a compose configuration whose file is missing names the file', async () => {
  const compose = await workspace('app-compose', { dockerComposeFile: 'compose.yaml', service: 'app' });
  const r = await berth(['up', '--workspace-folder', compose]);
  assert.equal(r.code, 1);
  const out = singleJson(r.stdout);
  assert.equal(out['code'], 'not_found');
  assert.match(String(out['message']), /Compose file .*app-compose\/\.devcontainer\/compose\.yaml cannot be read/);
});
