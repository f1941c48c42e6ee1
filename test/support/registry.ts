/**
 * A real OCI registry for tests: Debian's docker-registry (distribution 2.8)
 * on a free 127.0.0.1 port with its own storage in a temp dir, optionally
 * behind basic auth (htpasswd) or token auth (a Bearer token server, see
 * token-server.ts). Never uses /etc/docker/registry or port 5000.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BerthError } from '../../src/common/errors';
import { runChecked } from '../../src/common/process/spawn';
import { startTokenServer, type TokenServer } from './token-server';

export type RegistryAuth = 'none' | 'basic' | 'token';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export interface RegistryOptions {
  readonly auth?: RegistryAuth;
  /** The address to listen on (default 127.0.0.1); the host part of `host`. */
  readonly bindAddress?: string;
  readonly signal?: AbortSignal;
}

export interface Registry extends AsyncDisposable {
  /** `127.0.0.1:PORT` (or the bind address), the registry part of image references. */
  readonly host: string;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly auth: RegistryAuth;
  /** A user who may pull and push (basic and token auth). */
  readonly credentials?: Credentials;
  /** A user who may only pull (token auth). */
  readonly readOnlyCredentials?: Credentials;
  /** The token server (token auth), with the requests it answered. */
  readonly tokenServer?: TokenServer;
  /** The `service` the registry names in its Bearer challenge (token auth). */
  readonly service?: string;
  /** The registry's storage root. */
  readonly storage: string;
  readonly pid: number;
  /** The last lines the registry logged. */
  logs(): string;
  /** Kills the registry (and token server) and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

const BINARY = '/usr/bin/docker-registry';
const LOG_TAIL = 64 * 1024;
const SERVICE = 'berth-test-registry';
const ISSUER = 'berth-test-issuer';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** A bcrypt hash (what distribution's htpasswd accepts) from libxcrypt through perl's crypt(). */
async function bcrypt(password: string, signal?: AbortSignal): Promise<string> {
  const alphabet = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(22);
  // 22 characters carry 132 bits; the last one must leave the 4 spare bits zero.
  const salt = [...bytes].map((b, i) => (i < 21 ? alphabet[b % 64] : alphabet[(b % 4) * 16])).join('');
  const { stdout } = await runChecked(['perl', '-e', 'print crypt($ARGV[0], $ARGV[1])', '--', password, `$2b$05$${salt}`], { signal });
  const hash = stdout.toString('utf8');
  if (!/^\$2b\$05\$[./A-Za-z0-9]{53}$/.test(hash)) {
    throw new BerthError('failed_precondition', 'crypt() made no bcrypt hash (libxcrypt needed)', { details: { hash } });
  }
  return hash;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(new BerthError('cancelled', 'registry start cancelled', { cause: signal.reason }));
      },
      { once: true },
    );
  });
}

const PREFIX = 'berth-registry-';
const OWNER_FILE = 'owner.json';

interface Owner {
  readonly owner: number;
  readonly registry?: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes what registries of test processes that died without stopping them
 * (SIGKILL, timeouts) left: their temp dir and, when it still runs from that
 * dir's config, the registry process itself.
 */
async function sweepStale(): Promise<void> {
  for (const name of await readdir(os.tmpdir())) {
    if (!name.startsWith(PREFIX)) continue;
    const dir = path.join(os.tmpdir(), name);
    const owner = await readFile(path.join(dir, OWNER_FILE), 'utf8').then(
      (text) => JSON.parse(text) as Owner,
      () => undefined,
    );
    if (!owner || alive(owner.owner)) continue;
    if (owner.registry !== undefined) {
      const cmdline = await readFile(`/proc/${owner.registry}/cmdline`, 'utf8').catch(() => '');
      if (cmdline.includes(path.join(dir, 'config.yml'))) process.kill(owner.registry, 'SIGKILL');
    }
    await rm(dir, { recursive: true, force: true });
  }
}

interface Running {
  readonly child: ChildProcess & { pid: number };
  readonly logs: () => string;
}

/** Spawns the registry and waits until it answers on `/v2/`; kills it on failure. */
async function launch(config: string, url: string, signal?: AbortSignal): Promise<Running> {
  const child = spawn(BINARY, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  let log = '';
  const onData = (d: Buffer): void => {
    log = (log + d.toString('utf8')).slice(-LOG_TAIL);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
  };
  try {
    await spawned;
    const deadline = Date.now() + 15_000;
    for (;;) {
      const answered = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.status === 200 || r.status === 401,
        () => false,
      );
      if (answered) break;
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new BerthError('unavailable', `docker-registry exited: ${log.trim().split('\n').slice(-3).join('\n')}`);
      }
      if (Date.now() > deadline) throw new BerthError('unavailable', `docker-registry did not answer in 15 s: ${log.slice(-2000)}`);
      await sleep(25, signal);
    }
  } catch (err) {
    await kill();
    throw err;
  }
  return { child: child as ChildProcess & { pid: number }, logs: () => log };
}

export async function startRegistry(options: RegistryOptions = {}): Promise<Registry> {
  const { signal } = options;
  const auth = options.auth ?? 'none';
  signal?.throwIfAborted();
  await sweepStale();
  const dir = await mkdtemp(path.join(os.tmpdir(), PREFIX));
  const storage = path.join(dir, 'storage');
  let tokenServer: TokenServer | undefined;
  try {
    await writeFile(path.join(dir, OWNER_FILE), JSON.stringify({ owner: process.pid } satisfies Owner));
    const credentials: Credentials = { username: 'berth', password: randomBytes(12).toString('base64url') };
    const readOnlyCredentials: Credentials = { username: 'reader', password: randomBytes(12).toString('base64url') };
    let authConfig: Record<string, unknown> | undefined;
    if (auth === 'basic') {
      const htpasswd = path.join(dir, 'htpasswd');
      await writeFile(htpasswd, `${credentials.username}:${await bcrypt(credentials.password, signal)}\n`);
      authConfig = { htpasswd: { realm: 'berth-test', path: htpasswd } };
    } else if (auth === 'token') {
      tokenServer = await startTokenServer({
        dir,
        service: SERVICE,
        issuer: ISSUER,
        users: {
          [credentials.username]: { password: credentials.password, permission: 'push' },
          [readOnlyCredentials.username]: { password: readOnlyCredentials.password, permission: 'pull' },
        },
        signal,
      });
      authConfig = { token: { realm: tokenServer.realm, service: SERVICE, issuer: ISSUER, rootcertbundle: tokenServer.certPath } };
    }

    let running: Running | undefined;
    let host = '';
    for (let attempt = 0; !running; attempt++) {
      const port = await freePort();
      host = `${options.bindAddress ?? '127.0.0.1'}:${port}`;
      const config = path.join(dir, 'config.yml');
      // JSON is YAML: no quoting surprises.
      const settings = {
        version: '0.1',
        log: { level: 'info', formatter: 'text', accesslog: { disabled: true } },
        storage: { filesystem: { rootdirectory: storage }, delete: { enabled: true }, maintenance: { uploadpurging: { enabled: false } } },
        http: { addr: host, secret: randomBytes(16).toString('hex') },
        health: { storagedriver: { enabled: false } },
        ...(authConfig ? { auth: authConfig } : {}),
      };
      await writeFile(config, JSON.stringify(settings, null, 2));
      try {
        running = await launch(config, `http://${host}`, signal);
      } catch (err) {
        // Another process may have taken the free port between our probe and the registry's bind.
        if (attempt < 2 && BerthError.is(err, 'unavailable') && /address already in use/.test(err.message)) continue;
        throw err;
      }
    }
    const { child, logs } = running;
    await writeFile(path.join(dir, OWNER_FILE), JSON.stringify({ owner: process.pid, registry: child.pid } satisfies Owner));
    const killOnExit = (): void => {
      child.kill('SIGKILL');
    };
    process.once('exit', killOnExit);
    let stopped: Promise<void> | undefined;
    const stop = (): Promise<void> =>
      (stopped ??= (async () => {
        process.removeListener('exit', killOnExit);
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(timer);
        }
        await tokenServer?.stop();
        await rm(dir, { recursive: true, force: true });
      })());
    return {
      host,
      url: `http://${host}`,
      auth,
      ...(auth !== 'none' ? { credentials } : {}),
      ...(auth === 'token' ? { readOnlyCredentials, tokenServer, service: SERVICE } : {}),
      storage,
      pid: child.pid,
      logs,
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (err) {
    await tokenServer?.stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
