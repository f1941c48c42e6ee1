/**
 * `berth ssh-config [CONTAINER...]`: an OpenSSH `Host` block per container
 * with the agent (running ones, or those named), whose ProxyCommand runs
 * `berth ssh --stdio`; the container's key and the agent's host key are
 * written under --dir (default ~/.berth/ssh) for IdentityFile and
 * UserKnownHostsFile. stdout is the config text, ready for ~/.ssh/config.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AgentCredentials } from '../../api/routes';
import { stringOption, type Command } from '../command';
import { ENGINE_OPTIONS, engineClient } from '../engine-client';

/** Quotes a word for an ssh_config line (ProxyCommand is run by the user's shell). */
function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * AES-GCM first: OpenSSH offers chacha20-poly1305 first, which costs the
 * client and the agent (ssh2) some 10-20% more CPU per byte than AES-GCM on
 * CPUs with AES instructions. Every name here is in OpenSSH since 6.5.
 */
const CIPHERS = 'aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr';

export function hostBlock(c: AgentCredentials, files: { identity: string; knownHosts: string }, proxy: readonly string[]): string {
  const alias = `${c.name}.berth`;
  return [
    `Host ${alias}`,
    `  HostName ${c.name}`,
    `  User ${c.user}`,
    `  ProxyCommand ${proxy.map(quote).join(' ')}`,
    `  Ciphers ${CIPHERS}`,
    `  IdentityFile ${quote(files.identity)}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${quote(files.knownHosts)}`,
    `  HostKeyAlias ${alias}`,
    '  StrictHostKeyChecking yes',
    '  LogLevel ERROR',
    '',
  ].join('\n');
}

export const sshConfigCommand: Command = {
  name: 'ssh-config',
  summary: 'Print OpenSSH Host blocks (<name>.berth) for containers with the agent.',
  usage: 'ssh-config [--dir DIR] [CONTAINER...]',
  allowPositionals: true,
  options: {
    ...ENGINE_OPTIONS,
    dir: { type: 'string', valueName: 'DIR', description: 'Where keys and known_hosts are written (default ~/.berth/ssh).' },
  },
  async run(values, positionals, ctx) {
    const api = engineClient(values, ctx.env);
    const dir = path.resolve(ctx.cwd, stringOption(values, 'dir') ?? path.join(os.homedir(), '.berth', 'ssh'));
    const names = positionals.length > 0 ? positionals : (await api.call('containerList', { signal: ctx.signal })).filter((c) => c.request.agent === true).map((c) => c.id);
    // The ProxyCommand runs this same CLI with the same node, against the same engine.
    const self = [process.execPath, path.resolve(process.argv[1] ?? 'berth'), 'ssh', '--stdio', '--socket', api.socketPath];
    const blocks: string[] = [];
    for (const name of names) {
      const c = await api.call('containerAgentCredentials', { params: { id: name }, signal: ctx.signal });
      const own = path.join(dir, c.id.slice(0, 12));
      await mkdir(own, { recursive: true, mode: 0o700 });
      const identity = path.join(own, 'id_ed25519');
      const knownHosts = path.join(own, 'known_hosts');
      await writeFile(identity, c.clientKey, { mode: 0o600 });
      await writeFile(knownHosts, `${c.name}.berth ${c.hostPublicKey}\n`, { mode: 0o600 });
      blocks.push(hostBlock(c, { identity, knownHosts }, [...self, c.id]));
    }
    process.stdout.write(blocks.join('\n'));
    ctx.logger.info(`${blocks.length} host block(s); use with: ssh -F FILE <name>.berth, or Include FILE in ~/.ssh/config`);
    return 0;
  },
};
