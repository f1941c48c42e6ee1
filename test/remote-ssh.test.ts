/**
 * A remote engine over SSH: a real OpenSSH server (Debian's sshd) in its own
 * network namespace is the "remote host", berthd sits behind it, and the
 * CLI with --host ssh://... (BERTH_HOST) runs up, exec, logs, ssh (the
 * agent's WebSocket through the SSH channel) and down. Unknown host keys and
 * refused user keys are clear errors.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { run, runChecked } from '../src/common/process/spawn';
import { runBerth, singleJson } from './support/cli';
import { startRegistry, type Registry } from './support/registry';
import { ensureTestImages, type TestImages } from './support/test-images';

let dir = '';
let socket = '';
let registry: Registry;
let images: TestImages;
let sshd: ChildProcess | undefined;
const tag = randomBytes(3).toString('hex');
const ns = `berth-ssh-${tag}`;
const vethHost = `bsh${tag}`;
const vethNs = `bsn${tag}`;
const octet = 16 + (parseInt(tag.slice(0, 2), 16) % 200);
const hostIp = `10.233.${octet}.1`;
const remoteIp = `10.233.${octet}.2`;
const port = 2222;
let env: NodeJS.ProcessEnv = {};

const berthRemote = (args: readonly string[], extra: NodeJS.ProcessEnv = {}): ReturnType<typeof runBerth> => runBerth(args, { env: { ...env, ...extra } });

async function waitForPort(host: string, p: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(p, host, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`sshd did not listen on ${host}:${p}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-remote-'));
  socket = path.join(dir, 'run', 'berth.sock');
  registry = await startRegistry();
  images = await ensureTestImages(registry);
  const r = await runBerth(['engine', 'start', '--data-root', path.join(dir, 'data'), '--socket', socket]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal((await runBerth(['pull', images.latest, '--socket', socket])).code, 0);

  // The "remote host": a network namespace of our own, reached over a veth pair.
  await runChecked(['ip', 'netns', 'add', ns]);
  await runChecked(['ip', 'link', 'add', vethHost, 'type', 'veth', 'peer', 'name', vethNs]);
  await runChecked(['ip', 'link', 'set', vethNs, 'netns', ns]);
  await runChecked(['ip', 'addr', 'add', `${hostIp}/30`, 'dev', vethHost]);
  await runChecked(['ip', 'link', 'set', vethHost, 'up']);
  await runChecked(['ip', 'netns', 'exec', ns, 'ip', 'addr', 'add', `${remoteIp}/30`, 'dev', vethNs]);
  await runChecked(['ip', 'netns', 'exec', ns, 'ip', 'link', 'set', vethNs, 'up']);
  await runChecked(['ip', 'netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);

  await runChecked(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'host_key')]);
  await runChecked(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'id_ed25519')]);
  await runChecked(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'other_key')]);
  await writeFile(path.join(dir, 'authorized_keys'), await readFile(path.join(dir, 'id_ed25519.pub')));
  const hostPub = (await readFile(path.join(dir, 'host_key.pub'), 'utf8')).trim().split(' ');
  await writeFile(path.join(dir, 'known_hosts'), `# a comment\nother.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA\n[${remoteIp}]:${port} ${hostPub[0]} ${hostPub[1]}\n`);
  await writeFile(
    path.join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      `ListenAddress ${remoteIp}`,
      `HostKey ${path.join(dir, 'host_key')}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'AllowStreamLocalForwarding yes',
      '',
    ].join('\n'),
  );
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  sshd = spawn('ip', ['netns', 'exec', ns, '/usr/sbin/sshd', '-D', '-e', '-f', path.join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  sshd.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  await waitForPort(remoteIp, port, 10_000).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}: ${log}`);
  });
  env = {
    ...process.env,
    BERTH_HOST: `ssh://root@${remoteIp}:${port}${socket}`,
    BERTH_SSH_IDENTITY: path.join(dir, 'id_ed25519'),
    BERTH_SSH_KNOWN_HOSTS: path.join(dir, 'known_hosts'),
    SSH_AUTH_SOCK: '',
  };
  delete env['BERTH_SOCKET'];
});

after(async () => {
  sshd?.kill('SIGTERM');
  await run(['ip', 'link', 'del', vethHost]);
  await run(['ip', 'netns', 'del', ns]);
  if (socket) {
    const list = await runBerth(['container', 'ps', '--all', '--socket', socket]);
    for (const c of (singleJson(list.stdout)['containers'] ?? []) as { id: string }[]) await runBerth(['container', 'rm', c.id, '--force', '--socket', socket]);
    await runBerth(['engine', 'stop', '--socket', socket]);
  }
  await registry?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('--host ssh://: up, exec, logs, ssh through the agent, list and down on the engine behind an OpenSSH server', { timeout: 120_000 }, async () => {
  const ws = path.join(dir, 'remote-ws');
  await mkdir(path.join(ws, '.devcontainer'), { recursive: true });
  await writeFile(path.join(ws, '.devcontainer', 'devcontainer.json'), JSON.stringify({ image: images.latest, remoteUser: 'app', postCreateCommand: 'echo created-remotely > /tmp/created' }));
  const up = await berthRemote(['up', '--workspace-folder', ws]);
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const id = String(singleJson(up.stdout)['containerId']);
  const e = await berthRemote(['exec', '--workspace-folder', ws, '--', 'sh', '-c', 'cat /tmp/created; id -un; exit 3']);
  assert.equal(e.code, 3, e.stderr);
  assert.equal(e.stdout, 'created-remotely\napp\n');
  const logs = await berthRemote(['logs', '--workspace-folder', ws]);
  assert.equal(logs.stdout, 'Container started\n');
  const ssh = await berthRemote(['ssh', id, '--', 'sh', '-c', 'echo "agent over $0"; exit 5', 'ssh']);
  assert.equal(ssh.code, 5, ssh.stderr);
  assert.equal(ssh.stdout, 'agent over ssh\n');
  const listed = singleJson((await berthRemote(['list'])).stdout)['containers'] as { id: string }[];
  assert.ok(listed.some((c) => c.id === id));
  // The same engine, seen locally: one source of truth.
  assert.equal(singleJson((await runBerth(['container', 'inspect', id, '--socket', socket])).stdout)['id'], id);
  assert.equal((await berthRemote(['down', '--workspace-folder', ws])).code, 0);
});

test('--host ssh://: an unknown host key and a refused user key are clear errors; ssh:// and https:// are the schemes', { timeout: 60_000 }, async () => {
  await writeFile(path.join(dir, 'empty_known_hosts'), '');
  const unknown = await berthRemote(['list'], { BERTH_SSH_KNOWN_HOSTS: path.join(dir, 'empty_known_hosts') });
  assert.equal(unknown.code, 1);
  assert.match(String(singleJson(unknown.stdout)['message']), /host key of \[10\.233\.\d+\.2\]:2222 is not in .*ssh-keyscan/);
  const refused = await berthRemote(['list'], { BERTH_SSH_IDENTITY: path.join(dir, 'other_key') });
  assert.equal(refused.code, 1);
  assert.match(String(singleJson(refused.stdout)['message']), /SSH to root@\[10\.233\.\d+\.2\]:2222 failed/);
  const tcp = await berthRemote(['list'], { BERTH_HOST: 'tcp://example.org:2376' });
  assert.equal(tcp.code, 1);
  assert.match(String(singleJson(tcp.stdout)['message']), /unsupported scheme tcp:; use ssh:\/\/user@host.* or a gateway's https:\/\/host:port/);
});
