/** An agent reachable through the real OpenSSH client: keys, known_hosts and an ssh config with a ProxyCommand. */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './repo';

const exec = promisify(execFile);

export interface AgentFixture extends AsyncDisposable {
  readonly dir: string;
  readonly host: string;
  readonly config: string;
  /** Runs the OpenSSH client with this config; resolves with code, stdout, stderr. */
  ssh(args: readonly string[], options?: { input?: string; timeoutMs?: number; config?: string }): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Arguments for spawning the agent directly (for ssh2 clients). */
  readonly agentArgv: readonly string[];
  readonly clientKey: string;
}

export async function startAgentFixture(): Promise<AgentFixture> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-agent-'));
  await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'host', '-f', path.join(dir, 'host')]);
  await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'client', '-f', path.join(dir, 'client')]);
  await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'stranger', '-f', path.join(dir, 'stranger')]);
  await writeFile(path.join(dir, 'authorized'), await readFile(path.join(dir, 'client.pub')));
  const hostPub = (await readFile(path.join(dir, 'host.pub'), 'utf8')).split(' ').slice(0, 2).join(' ');
  await writeFile(path.join(dir, 'known_hosts'), `berth-agent-test ${hostPub}\n`);
  const agentArgv = [process.execPath, path.join(repoRoot(), 'dist', 'berth-agent.js'), '--host-key', path.join(dir, 'host'), '--authorized-keys', path.join(dir, 'authorized')];
  const config = path.join(dir, 'ssh_config');
  await writeFile(
    config,
    [
      'Host berth-agent-test',
      '  User root',
      `  ProxyCommand ${agentArgv.join(' ')}`,
      '  HostKeyAlias berth-agent-test',
      `  UserKnownHostsFile ${path.join(dir, 'known_hosts')}`,
      '  StrictHostKeyChecking yes',
      `  IdentityFile ${path.join(dir, 'client')}`,
      '  IdentitiesOnly yes',
      '  BatchMode yes',
      '  LogLevel ERROR',
      '',
    ].join('\n'),
  );
  const ssh: AgentFixture['ssh'] = (args, options = {}) =>
    new Promise((resolve, reject) => {
      const child = spawn('ssh', ['-F', options.config ?? config, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
      child.stdin.end(options.input ?? '');
    });
  return {
    dir,
    host: 'berth-agent-test',
    config,
    ssh,
    agentArgv,
    clientKey: path.join(dir, 'client'),
    [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }),
  };
}
