/**
 * Agent injection: the bundle (host node + its loader and libraries + the
 * agent) mounted read-only at /.berth runs the agent inside a busybox
 * container that has no libc and no node. Real runc; the real OpenSSH
 * client connects through a ProxyCommand that runs the container.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chown, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { AGENT_MOUNT_POINT, agentArgv, prepareAgentBundle } from '../src/engine/agent/bundle';
import { makeBusyboxRootfs } from './support/busybox-rootfs';
import { repoRoot } from './support/repo';

const exec = promisify(execFile);
let dir = '';
let sshConfig = '';
let bundle = '';

async function containerConfig(bundleDir: string, keysDir: string, rootfs: string, user: { uid: number; gid: number }): Promise<object> {
  const specDir = await mkdtemp(path.join(dir, 'spec-'));
  await exec('runc', ['spec'], { cwd: specDir });
  const config = JSON.parse(await readFile(path.join(specDir, 'config.json'), 'utf8')) as {
    process: { terminal: boolean; args: string[]; user: { uid: number; gid: number }; env: string[] };
    root: { path: string; readonly: boolean };
    mounts: object[];
    hostname: string;
  };
  config.process.terminal = false;
  config.process.user = user;
  config.process.env = ['PATH=/bin', 'HOME=/home/app'];
  config.process.args = await agentArgv(bundleDir, { hostKey: '/.berth-keys/host_key', authorizedKeys: '/.berth-keys/authorized_keys' });
  config.root = { path: rootfs, readonly: false };
  config.hostname = 'busybox-dev';
  config.mounts.push(
    { destination: AGENT_MOUNT_POINT, type: 'bind', source: bundleDir, options: ['rbind', 'ro'] },
    { destination: '/.berth-keys', type: 'bind', source: keysDir, options: ['rbind', 'ro'] },
  );
  return config;
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-inject-'));
  bundle = await prepareAgentBundle(path.join(dir, 'agent-bundle'), {
    nodeBinary: process.execPath,
    agentScript: path.join(repoRoot(), 'dist', 'berth-agent.js'),
    nodeModules: path.join(repoRoot(), 'node_modules'),
  });
  const rootfs = path.join(dir, 'oci', 'rootfs');
  await makeBusyboxRootfs(rootfs);
  const keys = path.join(dir, 'keys');
  await mkdir(keys);
  await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(keys, 'host_key')]);
  await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'client')]);
  await writeFile(path.join(keys, 'authorized_keys'), await readFile(path.join(dir, 'client.pub')));
  // The agent runs as the container user (uid 1000 here), who must read its keys.
  await chown(path.join(keys, 'host_key'), 1000, 1000);
  await writeFile(path.join(dir, 'oci', 'config.json'), JSON.stringify(await containerConfig(bundle, keys, rootfs, { uid: 1000, gid: 1000 })));
  const hostPub = (await readFile(path.join(keys, 'host_key.pub'), 'utf8')).split(' ').slice(0, 2).join(' ');
  await writeFile(path.join(dir, 'known_hosts'), `busybox-dev ${hostPub}\n`);
  sshConfig = path.join(dir, 'ssh_config');
  await writeFile(
    sshConfig,
    [
      'Host busybox-dev',
      '  User app',
      `  ProxyCommand runc --root ${path.join(dir, 'runc')} run --bundle ${path.join(dir, 'oci')} berth-inject-%p-${process.pid}`,
      '  HostKeyAlias busybox-dev',
      `  UserKnownHostsFile ${path.join(dir, 'known_hosts')}`,
      '  StrictHostKeyChecking yes',
      `  IdentityFile ${path.join(dir, 'client')}`,
      '  IdentitiesOnly yes',
      '  BatchMode yes',
      '  LogLevel ERROR',
      '',
    ].join('\n'),
  );
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function ssh(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('ssh', ['-F', sshConfig, ...args]);
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end();
  });
}

test('the agent runs in a busybox container with no libc and no node, as the container user', async () => {
  const r = await ssh(['busybox-dev', 'id -u; hostname; ls /lib 2>&1 | head -1; command -v node || echo no-node; echo $HOME']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `1000\nbusybox-dev\nls: /lib: No such file or directory\nno-node\n/home/app\n`);
});

test('a PTY shell works inside the container', async () => {
  const r = await ssh(['-tt', 'busybox-dev', 'tty && stty size']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\/dev\/pts\/\d+\r?\n\d+ \d+/);
});

test('the bundle is read-only and the keys are not writable inside', async () => {
  const r = await ssh(['busybox-dev', 'touch /.berth/x 2>&1; touch /.berth-keys/x 2>&1; echo done']);
  assert.match(r.stdout, /Read-only file system[\s\S]*Read-only file system[\s\S]*done/);
});

test("an unchanged bundle is reused; a change to any of ssh2's files (as patches/ makes) builds it anew", async () => {
  // node_modules as links to the real packages, but ssh2 a copy of its own, to change.
  const modules = path.join(dir, 'node_modules');
  await mkdir(modules);
  const real = path.join(repoRoot(), 'node_modules');
  for (const name of await readdir(real)) {
    if (name === 'ssh2') await cp(path.join(real, name), path.join(modules, name), { recursive: true });
    else await symlink(path.join(real, name), path.join(modules, name));
  }
  const sources = { nodeBinary: process.execPath, agentScript: path.join(repoRoot(), 'dist', 'berth-agent.js'), nodeModules: modules };
  const target = path.join(dir, 'bundle-reuse');
  const built = async (): Promise<{ ino: number; stamp: string }> => {
    await prepareAgentBundle(target, sources);
    return { ino: (await stat(target)).ino, stamp: await readFile(path.join(target, '.stamp'), 'utf8') };
  };
  const first = await built();
  assert.deepEqual(await built(), first, 'reused');
  // A file no earlier fingerprint named: lib/protocol/constants.js.
  const later = new Date(Date.now() + 60_000);
  await utimes(path.join(modules, 'ssh2', 'lib', 'protocol', 'constants.js'), later, later);
  const again = await built();
  assert.notEqual(again.ino, first.ino, 'built anew');
  assert.notEqual(again.stamp, first.stamp);
});
