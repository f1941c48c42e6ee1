/**
 * Parity of `berth up` with the reference `devcontainer up` (@devcontainers/cli,
 * on berthd's Docker API): the same configuration in two twin workspace
 * folders, then compared: the result's remoteUser and remoteWorkspaceFolder,
 * the environment commands see (containerEnv, remoteEnv), the workspace
 * mount, the labels (id labels and the devcontainer.metadata entries) and
 * which lifecycle hooks ran, in which order. Skipped, saying why, only when
 * the reference CLI cannot be installed.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runBerth, singleJson } from './support/cli';
import { startRegistry, type Registry } from './support/registry';
import { findReferenceCli, lastJsonLine, runTool, type ToolRun, startParityEngine, stopParityEngine } from './support/reference-cli';
import { ensureTestImages } from './support/test-images';

let registry: Registry | undefined;
let dir = '';
let socket = '';
let image = '';
let reference: string | undefined;
let whyMissing = '';

const dockerHost = (): string => `unix://${path.join(dir, 'run', 'docker.sock')}`;

function run(file: string, args: readonly string[]): Promise<ToolRun> {
  return runTool(file, args, { DOCKER_HOST: dockerHost() });
}

before(async () => {
  const found = await findReferenceCli();
  reference = found.bin;
  whyMissing = found.why ?? '';
  if (!reference) return;
  registry = await startRegistry();
  image = (await ensureTestImages(registry)).latest;
  ({ dir, socket } = await startParityEngine('berth-parity-'));
});

after(async () => {
  await stopParityEngine(dir, socket);
  await registry?.stop();
});

interface Observed {
  readonly remoteUser: unknown;
  readonly remoteWorkspaceFolder: unknown;
  readonly env: Record<string, string>;
  readonly hooks: string[];
  readonly workspaceMount: unknown;
  readonly labels: string[];
  readonly metadata: unknown;
}

async function observe(containerId: string, result: Record<string, unknown>, execOut: string, ws: string): Promise<Observed> {
  const [hooksText = '', envText = ''] = execOut.split('---\n');
  const env = Object.fromEntries(
    envText
      .split('\n')
      .filter((l) => /^(FOO|BAR|PROBED)=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const inspect = (JSON.parse((await run('docker', ['inspect', containerId])).stdout) as { Config: { Labels: Record<string, string> }; Mounts: { Type: string; Source: string; Destination: string }[] }[])[0];
  assert.ok(inspect);
  const mount = inspect.Mounts.find((m) => m.Destination.startsWith('/workspaces'));
  const metadata = (JSON.parse(inspect.Config.Labels['devcontainer.metadata'] ?? '[]') as Record<string, unknown>[]).map((e) => ({ ...e }));
  return {
    remoteUser: result['remoteUser'],
    remoteWorkspaceFolder: String(result['remoteWorkspaceFolder']).replace(path.basename(ws), 'WS'),
    env,
    hooks: hooksText.trim().split('\n'),
    workspaceMount: mount ? { type: mount.Type, source: mount.Source === ws, target: mount.Destination.replace(path.basename(ws), 'WS') } : undefined,
    labels: Object.keys(inspect.Config.Labels).filter((k) => k.startsWith('devcontainer.')).sort(),
    metadata,
  };
}

test('berth up and the reference devcontainer up agree on user, folder, env, mount, labels, metadata and hooks', { timeout: 300_000 }, async (t) => {
  if (!reference) {
    t.skip(whyMissing);
    return;
  }
  const config = {
    image,
    remoteUser: 'app',
    containerEnv: { FOO: 'bar' },
    remoteEnv: { BAR: '${containerEnv:FOO}-remote' },
    updateRemoteUserUID: false,
    runArgs: ['--network=none'],
    onCreateCommand: 'echo onCreate >> /tmp/hooks',
    updateContentCommand: 'echo updateContent >> /tmp/hooks',
    postCreateCommand: 'echo "postCreate $(id -un)" >> /tmp/hooks',
    postStartCommand: 'echo postStart >> /tmp/hooks',
    postAttachCommand: 'echo postAttach >> /tmp/hooks',
  };
  const twin = async (name: string): Promise<string> => {
    const ws = path.join(dir, name, 'WS-twin');
    await mkdir(path.join(ws, '.devcontainer'), { recursive: true });
    await writeFile(path.join(ws, '.devcontainer', 'devcontainer.json'), JSON.stringify(config, null, 2));
    return ws;
  };
  const wsBerth = await twin('berth');
  const wsRef = await twin('reference');
  const probe = ['sh', '-c', 'cat /tmp/hooks; echo ---; env'];

  const b = await runBerth(['up', '--socket', socket, '--workspace-folder', wsBerth]);
  assert.equal(b.code, 0, b.stdout + b.stderr);
  const bResult = singleJson(b.stdout);
  const bExec = await runBerth(['exec', '--socket', socket, '--workspace-folder', wsBerth, '--', ...probe]);
  assert.equal(bExec.code, 0, bExec.stderr);

  const r = await run(reference, ['up', '--workspace-folder', wsRef, '--docker-path', 'docker']);
  const rResult = lastJsonLine(r);
  assert.equal(rResult['outcome'], 'success', r.stderr.slice(-3000));
  const rExec = await run(reference, ['exec', '--workspace-folder', wsRef, '--docker-path', 'docker', ...probe]);
  assert.equal(rExec.code, 0, rExec.stderr.slice(-2000));

  const ours = await observe(String(bResult['containerId']), bResult, bExec.stdout, wsBerth);
  const theirs = await observe(String(rResult['containerId']), rResult, rExec.stdout, wsRef);
  assert.equal(ours.remoteUser, theirs.remoteUser);
  assert.equal(ours.remoteWorkspaceFolder, theirs.remoteWorkspaceFolder);
  assert.deepEqual(ours.env, theirs.env);
  assert.deepEqual(ours.hooks, theirs.hooks);
  assert.deepEqual(ours.workspaceMount, theirs.workspaceMount);
  assert.deepEqual(ours.labels, theirs.labels);
  assert.deepEqual(ours.metadata, theirs.metadata);
  // And both are what the spec says (so that the comparison compares something).
  assert.deepEqual(ours.hooks, ['onCreate', 'updateContent', 'postCreate app', 'postStart', 'postAttach']);
  assert.deepEqual(ours.env, { FOO: 'bar', BAR: 'bar-remote' });
  assert.deepEqual(ours.workspaceMount, { type: 'bind', source: true, target: '/workspaces/WS' });
  assert.deepEqual(ours.labels, ['devcontainer.config_file', 'devcontainer.local_folder', 'devcontainer.metadata']);
  assert.ok(Array.isArray(ours.metadata) && ours.metadata.some((e) => (e as { remoteUser?: string }).remoteUser === 'app'), JSON.stringify(ours.metadata));
});

test('read-configuration --include-merged-configuration agrees with the reference for a Dockerfile with a local feature, before and after up', { timeout: 300_000 }, async (t) => {
  if (!reference) {
    t.skip(whyMissing);
    return;
  }
  // A base image that carries metadata of its own, built on the engine.
  const baseDir = path.join(dir, 'merged-base');
  await mkdir(baseDir, { recursive: true });
  const baseLabel = JSON.stringify([{ remoteUser: 'app', containerEnv: { BASE: '1' }, postCreateCommand: 'echo base' }]);
  await writeFile(path.join(baseDir, 'Dockerfile'), `FROM ${image}\nLABEL devcontainer.metadata='${baseLabel}'\n`);
  const built = await run('docker', ['build', '-q', '-t', 'berth-merged-base:1', baseDir]);
  assert.equal(built.code, 0, built.stderr);

  const twin = async (name: string): Promise<string> => {
    const ws = path.join(dir, name, 'WS-merged');
    const dc = path.join(ws, '.devcontainer');
    await mkdir(path.join(dc, 'feat'), { recursive: true });
    await writeFile(path.join(dc, 'Dockerfile'), 'ARG BASE=nothing\nFROM ${BASE} AS base\nFROM base\nRUN true\n');
    await writeFile(
      path.join(dc, 'feat', 'devcontainer-feature.json'),
      JSON.stringify({ id: 'feat', version: '1.0.0', containerEnv: { FEAT: 'yes' }, capAdd: ['SYS_PTRACE'], postCreateCommand: 'echo feat', customizations: { vscode: { extensions: ['a.b'] } } }),
    );
    await writeFile(path.join(dc, 'feat', 'install.sh'), '#!/bin/sh\ntrue\n');
    await writeFile(
      path.join(dc, 'devcontainer.json'),
      JSON.stringify({ build: { dockerfile: 'Dockerfile', args: { BASE: 'berth-merged-base:1' } }, features: { './feat': {} }, runArgs: ['--network=none'], containerEnv: { LOCAL: 'x' }, postCreateCommand: 'echo local', updateRemoteUserUID: false }),
    );
    return ws;
  };
  const wsBerth = await twin('berth');
  const wsRef = await twin('reference');
  const merged = async (ws: string, berth: boolean): Promise<Record<string, unknown>> => {
    const r = berth
      ? await runBerth(['read-configuration', '--socket', socket, '--workspace-folder', ws, '--include-merged-configuration'])
      : await run(reference ?? '', ['read-configuration', '--workspace-folder', ws, '--docker-path', 'docker', '--include-merged-configuration']);
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const m = { ...((berth ? singleJson(r.stdout) : lastJsonLine({ code: r.code ?? -1, stdout: r.stdout, stderr: r.stderr }))['mergedConfiguration'] as Record<string, unknown>) };
    delete m['configFilePath'];
    return JSON.parse(JSON.stringify(m).replaceAll(path.join(dir, berth ? 'berth' : 'reference'), 'DIR')) as Record<string, unknown>;
  };
  const before = await merged(wsBerth, true);
  assert.deepEqual(before, await merged(wsRef, false));
  // Base, feature and local entries in that order (so that the comparison compares something);
  // a feature's containerEnv becomes ENV in its image, not metadata.
  assert.deepEqual(before['containerEnv'], { BASE: '1', LOCAL: 'x' });
  assert.equal(before['remoteUser'], 'app');
  assert.deepEqual(before['capAdd'], ['SYS_PTRACE']);
  assert.deepEqual(before['postCreateCommands'], ['echo base', 'echo feat', 'echo local']);

  // After up, both answer from the container's own label.
  const b = await runBerth(['up', '--socket', socket, '--workspace-folder', wsBerth]);
  assert.equal(b.code, 0, b.stdout + b.stderr);
  const r = await run(reference, ['up', '--workspace-folder', wsRef, '--docker-path', 'docker']);
  assert.equal(lastJsonLine(r)['outcome'], 'success', r.stderr.slice(-3000));
  const after = await merged(wsBerth, true);
  assert.deepEqual(after, await merged(wsRef, false));
  assert.deepEqual(after, before);
});
