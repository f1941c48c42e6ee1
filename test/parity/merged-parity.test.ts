/**
 * Merge parity: for images that carry a devcontainer.metadata label, Berth's
 * merge gives the same `mergedConfiguration` as the reference CLI. The
 * reference reads the label from Debian's Docker engine (the shared anchor);
 * Berth's merge runs on the same label and configuration.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { mergeWithImageMetadata } from '../../src/config/image-metadata';
import { readConfiguration } from '../../src/config/read';
import { repoRoot } from '../support/repo';

const exec = promisify(execFile);
const anchors = path.join(repoRoot(), '..', 'shared', 'anchors');

const CASES: ReadonlyArray<{ name: string; label?: unknown; config: Record<string, unknown> }> = [
  {
    name: 'features-and-base',
    label: [
      { remoteUser: 'base', capAdd: ['NET_ADMIN'], postCreateCommand: 'echo base', mounts: ['source=a,target=/data,type=volume'] },
      { id: 'f', init: true, entrypoint: '/f.sh', securityOpt: ['seccomp=unconfined'], onCreateCommand: ['echo', 'f'] },
    ],
    config: { postCreateCommand: ['echo', 'local'], forwardPorts: [3000], hostRequirements: { memory: '1gb' }, capAdd: ['NET_ADMIN', 'SYS_PTRACE'] },
  },
  {
    name: 'single-object-label',
    label: {
      customizations: { vscode: { extensions: ['base.ext'], settings: { a: 1 } } },
      containerEnv: { A: 'base', B: 'base' },
      remoteEnv: { R: 'base' },
      forwardPorts: [8080, 'db:5432'],
      portsAttributes: { '8080': { label: 'base' } },
      otherPortsAttributes: { onAutoForward: 'ignore' },
      overrideCommand: true,
      updateRemoteUserUID: true,
      shutdownAction: 'none',
      waitFor: 'onCreateCommand',
      userEnvProbe: 'loginShell',
      hostRequirements: { cpus: 2, gpu: { cores: 4, memory: '2gb' } },
      mounts: [{ type: 'volume', source: 'v', target: '/cache' }],
    },
    config: {
      customizations: { vscode: { extensions: ['local.ext'] }, other: { x: true } },
      containerEnv: { B: 'local' },
      remoteEnv: { R: null, S: '${containerEnv:PATH}' },
      forwardPorts: [3000, 8080],
      portsAttributes: { '8080': { label: 'local' }, '3000': { onAutoForward: 'silent' } },
      overrideCommand: false,
      updateRemoteUserUID: false,
      mounts: ['source=w,target=/cache,type=volume', { type: 'bind', source: '/tmp', target: '/t' }],
      hostRequirements: { cpus: 4, storage: '10gb', gpu: 'optional' },
    },
  },
  {
    name: 'no-label',
    config: {
      onCreateCommand: { a: 'echo a', b: ['echo', 'b'] },
      postStartCommand: 'echo start',
      postAttachCommand: ['echo', 'attach'],
      updateContentCommand: 'echo update',
      privileged: true,
      securityOpt: ['label=disable'],
      containerUser: 'root',
      remoteUser: 'dev',
      waitFor: 'postStartCommand',
    },
  },
  {
    name: 'empty-local-entry',
    label: [{ hostRequirements: { gpu: false, cpus: 2 }, overrideCommand: false }, {}],
    config: { name: 'only properties that take no part in the merge' },
  },
  {
    name: 'gpu-optional-both',
    label: [{ hostRequirements: { gpu: 'optional', memory: '512mb' } }, { privileged: false, init: false }],
    config: { hostRequirements: { gpu: 'optional', memory: '256mb' }, init: true },
  },
];

let dockerHost = '';
let startedDockerd = false;
let reference = '';
let work = '';

before(async () => {
  for (const script of ['dockerd.sh', 'reference-cli.sh']) {
    if (!existsSync(path.join(anchors, script))) throw new Error(`this parity test needs ${path.join(anchors, script)}`);
  }
  reference = process.env['BERTH_REFERENCE_CLI'] ?? (await exec('bash', [path.join(anchors, 'reference-cli.sh')], { timeout: 300_000 })).stdout.trim();
  const wasRunning = await exec('docker', ['version'], { env: { ...process.env, DOCKER_HOST: 'unix:///var/tmp/berth-anchor-dockerd/docker.sock' } }).then(
    () => true,
    () => false,
  );
  dockerHost = (await exec('bash', [path.join(anchors, 'dockerd.sh'), 'start'], { timeout: 300_000 })).stdout.trim();
  startedDockerd = !wasRunning;
  work = await mkdtemp(path.join(os.tmpdir(), 'berth-merge-parity-'));
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
  // Leave the machine as we found it: stop the reference engine if this test started it.
  if (startedDockerd) await exec('bash', [path.join(anchors, 'dockerd.sh'), 'stop']);
});

test('mergedConfiguration matches the reference for labelled images', async () => {
  const env = { ...process.env, DOCKER_HOST: dockerHost };
  const emptyTar = path.join(work, 'empty.tar');
  await exec('tar', ['cf', emptyTar, '-T', '/dev/null']);
  for (const c of CASES) {
    const image = `berth-parity/${c.name}:1`;
    const label = c.label === undefined ? undefined : JSON.stringify(c.label);
    const changes = label === undefined ? [] : ['--change', `LABEL devcontainer.metadata=${JSON.stringify(label)}`];
    await exec('docker', ['import', ...changes, emptyTar, image], { env });
    const ws = path.join(work, c.name);
    await mkdir(ws);
    await writeFile(path.join(ws, '.devcontainer.json'), JSON.stringify({ image, ...c.config }, null, 2));
    const { stdout } = await exec(reference, ['read-configuration', '--workspace-folder', ws, '--include-merged-configuration'], { env, timeout: 60_000 });
    const theirs = (JSON.parse(stdout) as { mergedConfiguration: Record<string, unknown> }).mergedConfiguration;
    const read = await readConfiguration({ workspaceFolder: ws, env: {} });
    const ours = {
      ...mergeWithImageMetadata(read.config, label),
      configFilePath: { $mid: 1, fsPath: read.configFile, path: read.configFile, scheme: 'vscode-fileHost' },
    };
    assert.deepStrictEqual(JSON.parse(JSON.stringify(ours)), theirs, c.name);
  }
});
