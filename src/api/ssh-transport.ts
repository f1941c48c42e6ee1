/**
 * `--host ssh://user@host[:port][/path/to/berth.sock]`: the engine's API
 * socket on another machine, reached through OpenSSH's streamlocal
 * forwarding (ssh2 client): one SSH connection per command, a channel per
 * request. Keys from the SSH agent ($SSH_AUTH_SOCK) and the usual identity
 * files (or $BERTH_SSH_IDENTITY); the host key must be in known_hosts
 * ($BERTH_SSH_KNOWN_HOSTS or ~/.ssh/known_hosts), hashed entries included.
 */
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { Client } from 'ssh2';
import { BerthError } from '../common/errors';
import { loadSsh2 } from '../common/load-ssh2';

export interface SshTarget {
  readonly user: string;
  readonly host: string;
  readonly port: number;
  readonly socketPath: string;
}

export function parseSshHost(url: string): SshTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new BerthError('invalid_argument', `--host ${url}: not a URL (ssh://user@host[:port][/socket] or https://host:port)`);
  }
  if (u.protocol !== 'ssh:') throw new BerthError('invalid_argument', `--host ${url}: unsupported scheme ${u.protocol}; use ssh://user@host[:port][/socket] or a gateway's https://host:port`);
  if (!u.hostname) throw new BerthError('invalid_argument', `--host ${url}: no host`);
  return {
    user: decodeURIComponent(u.username) || os.userInfo().username,
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : 22,
    socketPath: u.pathname && u.pathname !== '/' ? decodeURIComponent(u.pathname) : '/run/berth/berth.sock',
  };
}

/** The known_hosts names of a host: "host" on port 22, "[host]:port" otherwise. */
function hostPattern(t: SshTarget): string {
  return t.port === 22 ? t.host : `[${t.host}]:${t.port}`;
}

function matchesHost(field: string, name: string): boolean {
  for (const pattern of field.split(',')) {
    if (pattern.startsWith('|1|')) {
      const [, , salt, hash] = pattern.split('|');
      if (salt && hash && createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash) return true;
    } else if (pattern === name) return true;
  }
  return false;
}

/** The base64 key blobs known_hosts holds for the target. */
export function knownKeys(text: string, t: SshTarget): string[] {
  const name = hostPattern(t);
  const keys: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    if (fields[0]?.startsWith('@')) continue; // @cert-authority / @revoked: not supported, never trusted
    if (fields.length >= 3 && matchesHost(fields[0] ?? '', name)) keys.push(fields[2] ?? '');
  }
  return keys;
}

function identity(env: NodeJS.ProcessEnv): Buffer | undefined {
  const files = env['BERTH_SSH_IDENTITY'] ? [env['BERTH_SSH_IDENTITY']] : ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => path.join(os.homedir(), '.ssh', f));
  const found = files.find((f) => existsSync(f));
  return found ? readFileSync(found) : undefined;
}

/**
 * A connector for ApiClient: each call opens a channel to the remote socket.
 * The TCP socket is unref'ed while no channel is open, so a finished command
 * exits without closing it by hand.
 */
export function sshConnector(target: SshTarget, env: NodeJS.ProcessEnv): () => Promise<Duplex> {
  let ready: Promise<{ client: Client; sock: net.Socket }> | undefined;
  let open = 0;
  const connect = async (): Promise<{ client: Client; sock: net.Socket }> => {
    const { Client: SshClient } = await loadSsh2();
    const knownFile = env['BERTH_SSH_KNOWN_HOSTS'] ?? path.join(os.homedir(), '.ssh', 'known_hosts');
    const known = knownKeys(existsSync(knownFile) ? readFileSync(knownFile, 'utf8') : '', target);
    if (known.length === 0) {
      throw new BerthError('failed_precondition', `the host key of ${hostPattern(target)} is not in ${knownFile}; check it, then add it (ssh-keyscan -p ${target.port} ${target.host} >> ${knownFile})`);
    }
    const key = identity(env);
    const agent = env['SSH_AUTH_SOCK'];
    if (!key && !agent) throw new BerthError('failed_precondition', 'no SSH key: start an ssh-agent, or put a key in ~/.ssh, or set BERTH_SSH_IDENTITY');
    const sock = net.connect(target.port, target.host);
    const client = new SshClient();
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve());
      client.once('error', (err) => reject(new BerthError('unavailable', `SSH to ${target.user}@${hostPattern(target)} failed: ${err.message}`, { cause: err })));
      client.connect({
        sock,
        username: target.user,
        ...(key ? { privateKey: key } : {}),
        ...(agent ? { agent } : {}),
        hostVerifier: (k: Buffer) => known.includes(k.toString('base64')),
        readyTimeout: 20_000,
      });
    });
    client.on('error', () => undefined);
    return { client, sock };
  };
  return async () => {
    ready ??= connect();
    const { client, sock } = await ready.catch((err: unknown) => {
      ready = undefined;
      throw err;
    });
    sock.ref();
    open++;
    const channel = await new Promise<Duplex>((resolve, reject) => {
      client.openssh_forwardOutStreamLocal(target.socketPath, (err, ch) => {
        if (err) reject(new BerthError('unavailable', `the engine socket ${target.socketPath} on ${target.host} cannot be reached over SSH: ${err.message}`, { cause: err }));
        else resolve(ch);
      });
    }).catch((err: unknown) => {
      if (--open === 0) sock.unref();
      throw err;
    });
    channel.once('close', () => {
      if (--open === 0) sock.unref();
    });
    // HTTP upgrades (the agent's WebSocket) treat the stream as a socket: give it the socket knobs, as no-ops.
    const knobs = channel as Duplex & Record<string, unknown>;
    for (const name of ['setNoDelay', 'setTimeout', 'setKeepAlive']) if (typeof knobs[name] !== 'function') knobs[name] = () => channel;
    return channel;
  };
}
