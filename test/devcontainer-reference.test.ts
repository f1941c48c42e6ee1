/**
 * The reference Dev Containers CLI (@devcontainers/cli, from npm) on berthd
 * through the Docker API, as root: `up` on an image-based configuration
 * (Debian from the test registry; no UID update, which needs `docker build`),
 * the lifecycle commands, `exec` with its exit code, `run-user-commands`,
 * and `up` again reusing the container; `up` on a Dockerfile configuration
 * (the classic builder through the Docker API). The CLI is installed by
 * ../shared/anchors/reference-cli.sh (or BERTH_REFERENCE_CLI); the test is
 * skipped, saying why, only when it cannot be installed.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startRegistry, type Registry } from './support/registry';
import { findReferenceCli, lastJsonLine, runTool, type ToolRun, startParityEngine, stopParityEngine } from './support/reference-cli';
import { ensureDebianImage } from './support/test-images';

let registry: Registry | undefined;
let dir = '';
let socket = '';
let reference: string | undefined;
let whyMissing = '';

function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<ToolRun> {
  return runTool(file, args, { DOCKER_HOST: `unix://${path.join(dir, 'run', 'docker.sock')}`, ...env });
}

before(async () => {
  const found = await findReferenceCli();
  reference = found.bin;
  whyMissing = found.why ?? '';
  if (!reference) return;
  registry = await startRegistry();
  ({ dir, socket } = await startParityEngine('berth-devcontainer-ref-'));
});

after(async () => {
  await stopParityEngine(dir, socket);
  await registry?.stop();
});

test('the reference devcontainer CLI: up, lifecycle commands, exec, run-user-commands and up again on berthd', async (t) => {
  if (!reference || !registry) return t.skip(`the reference @devcontainers/cli is not available: ${whyMissing}`);
  const image = await ensureDebianImage(registry);
  const workspace = path.join(dir, 'project');
  await mkdir(path.join(workspace, '.devcontainer'), { recursive: true });
  await writeFile(path.join(workspace, 'README'), 'mounted from the host\n');
  await writeFile(
    path.join(workspace, '.devcontainer', 'devcontainer.json'),
    JSON.stringify({
      image,
      // The UID update builds an image (`docker build`), which is the builder's issue (#6).
      updateRemoteUserUID: false,
      containerEnv: { FROM_CONFIG: 'container' },
      remoteEnv: { FROM_REMOTE: 'remote' },
      onCreateCommand: 'echo on-create > /tmp/on-create',
      postCreateCommand: ['sh', '-c', 'echo "post-create $FROM_REMOTE" > /tmp/post-create'],
      postStartCommand: 'date +%s%N >> /tmp/post-start',
    }),
  );
  const dc = reference;
  const common = ['--workspace-folder', workspace, '--docker-path', 'docker'];
  const up = await run(dc, ['up', ...common]);
  const upResult = lastJsonLine(up);
  assert.equal(upResult['outcome'], 'success', up.stderr.slice(-3000));
  const containerId = String(upResult['containerId']);
  assert.match(containerId, /^[0-9a-f]{64}$/);
  assert.equal(upResult['remoteWorkspaceFolder'], '/workspaces/project');

  const labels = await run('docker', ['inspect', '-f', '{{index .Config.Labels "devcontainer.local_folder"}} {{.State.Status}}', containerId]);
  assert.equal(labels.stdout, `${workspace} running\n`);
  const lifecycle = await run(dc, ['exec', ...common, 'sh', '-c', 'cat /tmp/on-create /tmp/post-create /workspaces/project/README; wc -l < /tmp/post-start; echo "$FROM_CONFIG $FROM_REMOTE"; exit 6']);
  assert.equal(lifecycle.code, 6, lifecycle.stderr);
  assert.equal(lifecycle.stdout, 'on-create\npost-create remote\nmounted from the host\n1\ncontainer remote\n');

  const again = await run(dc, ['run-user-commands', ...common]);
  assert.equal(lastJsonLine(again)['outcome'], 'success', again.stderr.slice(-3000));

  const second = await run(dc, ['up', ...common]);
  assert.equal(lastJsonLine(second)['outcome'], 'success', second.stderr.slice(-3000));
  assert.equal(lastJsonLine(second)['containerId'], containerId, 'up again reuses the running container');
  // The create-time commands ran once; their markers are in the container.
  const once = await run(dc, ['exec', ...common, 'sh', '-c', 'cat /tmp/on-create']);
  assert.equal(once.stdout, 'on-create\n');
});

test('the reference devcontainer CLI: up on a Dockerfile configuration (classic builder through the Docker API), exec as the image\'s user', async (t) => {
  if (!reference || !registry) return t.skip(`the reference @devcontainers/cli is not available: ${whyMissing}`);
  const image = await ensureDebianImage(registry);
  const workspace = path.join(dir, 'built');
  await mkdir(path.join(workspace, '.devcontainer'), { recursive: true });
  await writeFile(path.join(workspace, '.devcontainer', 'Dockerfile'), `FROM ${image}\nRUN useradd -m -u 1234 dev && echo built-here > /built\n`);
  await writeFile(path.join(workspace, '.devcontainer', 'devcontainer.json'), JSON.stringify({ build: { dockerfile: 'Dockerfile' }, remoteUser: 'dev', postCreateCommand: 'id -un > /tmp/post-create' }));
  const common = ['--workspace-folder', workspace, '--docker-path', 'docker'];
  // The CLI writes its own Dockerfile outside the context and builds with the classic builder.
  const up = await run(reference, ['up', ...common, '--buildkit', 'never'], { DOCKER_BUILDKIT: '0' });
  const upResult = lastJsonLine(up);
  assert.equal(upResult['outcome'], 'success', up.stderr.slice(-3000));
  assert.equal(upResult['remoteUser'], 'dev');
  const inside = await run(reference, ['exec', ...common, 'sh', '-c', 'cat /built /tmp/post-create; id -u']);
  assert.equal(inside.code, 0, inside.stderr);
  assert.equal(inside.stdout, 'built-here\ndev\n1234\n');
});
