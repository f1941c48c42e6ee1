/**
 * Parity of `berth up` on a compose configuration with the reference
 * `devcontainer up`, which drives docker-compose (Debian's v1.29, see
 * support/compose-v1.ts) against berthd's Docker API. The same
 * configuration in twin folders of the same name, one after the other (the
 * project name is the same, by design): the result's remoteWorkspaceFolder
 * and composeProjectName, the Compose labels of both services' containers,
 * the dev container's devcontainer.* labels and containerEnv, the project's
 * network and named volume. Skipped, saying why, only when the reference CLI
 * or docker-compose cannot be had.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runBerth, singleJson } from './support/cli';
import { composeV1Bin } from './support/compose-v1';
import { startRegistry, type Registry } from './support/registry';
import { findReferenceCli, lastJsonLine, runTool, type ToolRun, startParityEngine, stopParityEngine } from './support/reference-cli';
import { ensureTestImages } from './support/test-images';

let registry: Registry | undefined;
let dir = '';
let socket = '';
let image = '';
let reference: string | undefined;
let composeBin = '';
let whyMissing = '';

function run(file: string, args: readonly string[]): Promise<ToolRun> {
  return runTool(file, args, { DOCKER_HOST: `unix://${path.join(dir, 'run', 'docker.sock')}`, PATH: `${composeBin}:${process.env['PATH'] ?? ''}` });
}

before(async () => {
  const found = await findReferenceCli();
  const compose = found.bin ? await composeV1Bin() : {};
  reference = found.bin && compose.bin ? found.bin : undefined;
  composeBin = compose.bin ?? '';
  whyMissing = found.why ?? compose.why ?? '';
  if (!reference) return;
  registry = await startRegistry();
  image = (await ensureTestImages(registry)).latest;
  ({ dir, socket } = await startParityEngine('berth-compose-parity-'));
});

after(async () => {
  await stopParityEngine(dir, socket);
  await registry?.stop();
});

interface Inspected {
  readonly Id: string;
  readonly Config: { readonly Labels: Record<string, string>; readonly Env: readonly string[] };
  readonly NetworkSettings: { readonly Networks: Record<string, unknown> };
}

const COMPOSE_KEYS = ['project', 'service', 'container-number', 'oneoff'].map((k) => `com.docker.compose.${k}`);

/** What both tools must agree on, with the twin's folder written as WS. */
async function observe(result: Record<string, unknown>, ws: string): Promise<Record<string, unknown>> {
  const ids = (await run('docker', ['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  const all = JSON.parse((await run('docker', ['inspect', ...ids])).stdout) as Inspected[];
  const byService = Object.fromEntries(all.map((c) => [c.Config.Labels['com.docker.compose.service'] ?? '', c]));
  const app = byService['app'];
  assert.ok(app && byService['db'], JSON.stringify(Object.keys(byService)));
  const pick = (c: Inspected): Record<string, string | undefined> => ({
    ...Object.fromEntries(COMPOSE_KEYS.map((k) => [k, c.Config.Labels[k]])),
    workingDir: c.Config.Labels['com.docker.compose.project.working_dir']?.replace(ws, 'WS'),
    firstConfigFile: c.Config.Labels['com.docker.compose.project.config_files']?.split(',')[0]?.replace(ws, 'WS'),
  });
  const volume = (await run('docker', ['volume', 'ls', '-q'])).stdout.split('\n').find((v) => v.endsWith('_data'));
  const volumeLabels = volume ? (JSON.parse((await run('docker', ['volume', 'inspect', volume])).stdout) as { Labels: Record<string, string> }[])[0]?.Labels : undefined;
  return {
    remoteWorkspaceFolder: String(result['remoteWorkspaceFolder']),
    composeProjectName: result['composeProjectName'],
    containerId: result['containerId'] === app.Id,
    app: pick(app),
    db: pick(byService['db']),
    devcontainerLabels: Object.keys(app.Config.Labels).filter((k) => k.startsWith('devcontainer.')).sort(),
    localFolder: app.Config.Labels['devcontainer.local_folder'] === ws,
    foo: app.Config.Env.find((e) => e.startsWith('FOO=')),
    networks: Object.keys(app.NetworkSettings.Networks).sort(),
    volume,
    volumeLabels: { project: volumeLabels?.['com.docker.compose.project'], volume: volumeLabels?.['com.docker.compose.volume'] },
  };
}

test('berth up and the reference devcontainer up (with docker-compose) agree on a compose configuration', { timeout: 600_000 }, async (t) => {
  if (!reference) {
    t.skip(whyMissing);
    return;
  }
  const twin = async (name: string): Promise<string> => {
    const ws = path.join(dir, name, 'WS-twin');
    await mkdir(path.join(ws, '.devcontainer'), { recursive: true });
    await writeFile(
      path.join(ws, '.devcontainer', 'docker-compose.yml'),
      `services:
  app:
    image: ${image}
    init: true
    command: sleep 1000
    volumes: ["..:/workspaces/WS-twin"]
    depends_on: [db]
  db:
    image: ${image}
    init: true
    command: sleep 1000
    volumes: ["data:/data"]
volumes:
  data: {}
`,
    );
    await writeFile(
      path.join(ws, '.devcontainer', 'devcontainer.json'),
      JSON.stringify({
        dockerComposeFile: 'docker-compose.yml',
        service: 'app',
        runServices: ['app', 'db'],
        workspaceFolder: '/workspaces/${localWorkspaceFolderBasename}',
        containerEnv: { FOO: 'bar' },
        postCreateCommand: 'echo created > /tmp/created',
      }),
    );
    return ws;
  };
  const wsBerth = await twin('berth');
  const wsRef = await twin('reference');

  const b = await runBerth(['up', '--socket', socket, '--workspace-folder', wsBerth]);
  assert.equal(b.code, 0, b.stdout + b.stderr);
  const ours = await observe(singleJson(b.stdout), wsBerth);
  const down = await runBerth(['down', '--socket', socket, '--workspace-folder', wsBerth, '--volumes']);
  assert.equal(down.code, 0, down.stdout + down.stderr);

  const r = await run(reference, ['up', '--workspace-folder', wsRef, '--docker-path', 'docker']);
  const rResult = lastJsonLine(r);
  assert.equal(rResult['outcome'], 'success', r.stderr.slice(-3000));
  const theirs = await observe(rResult, wsRef);

  assert.deepEqual(ours, theirs);
  // And both are what they should be (so that the comparison compares something).
  assert.equal(ours['composeProjectName'], 'ws-twin_devcontainer');
  assert.equal(ours['remoteWorkspaceFolder'], '/workspaces/WS-twin');
  assert.deepEqual(ours['app'], {
    'com.docker.compose.project': 'ws-twin_devcontainer',
    'com.docker.compose.service': 'app',
    'com.docker.compose.container-number': '1',
    'com.docker.compose.oneoff': 'False',
    workingDir: 'WS/.devcontainer',
    firstConfigFile: 'WS/.devcontainer/docker-compose.yml',
  });
  assert.deepEqual(ours['networks'], ['ws-twin_devcontainer_default']);
  assert.equal(ours['volume'], 'ws-twin_devcontainer_data');
  assert.deepEqual(ours['devcontainerLabels'], ['devcontainer.config_file', 'devcontainer.local_folder', 'devcontainer.metadata']);
});
