/**
 * `berth engine start|stop|status`: launches and supervises berthd itself
 * (there is no systemd here), and reports on it.
 */
import { spawn } from 'node:child_process';
import { mkdir, open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ApiClient } from '../../api/client';
import { BerthError } from '../../common/errors';
import { enginePaths, type EnginePaths } from '../../api/engine-paths';
import { stringList, stringOption, type Command, type CommandContext, type ParsedOptions } from '../command';

const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 30_000;

/**
 * Node flags for berthd. V8 sizes the old generation from what is live (about
 * 10 MB in berthd), so it ran a full collection every 100-300 ms while a build
 * streamed layers and rewrote snapshot metadata (a cold bench build: 9 of them).
 * Starting with a 64 MB old generation costs about 30 MB of resident memory
 * and cut berthd's CPU for a cold plus a cached build by about 30%
 * (1457-1563 ms to 983-993 ms), the cold build's time by about 20% and the
 * cached build right after it by 20-40 ms.
 */
const BERTHD_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=64'];

function pathsFrom(values: ParsedOptions, env: NodeJS.ProcessEnv): EnginePaths {
  const dataRoot = stringOption(values, 'data-root') ?? env['BERTH_DATA_ROOT'];
  const socketPath = stringOption(values, 'socket') ?? env['BERTH_SOCKET'];
  return enginePaths({ ...(dataRoot ? { dataRoot } : {}), ...(socketPath ? { socketPath } : {}) });
}

async function ping(client: ApiClient, signal?: AbortSignal): Promise<{ pid: number; version: string } | undefined> {
  try {
    return await client.call('ping', signal ? { signal } : {});
  } catch (err) {
    if (BerthError.is(err, 'unavailable')) return undefined;
    throw err;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function start(values: ParsedOptions, ctx: CommandContext): Promise<number> {
  const paths = pathsFrom(values, ctx.env);
  const client = new ApiClient({ socketPath: paths.socketPath });
  const running = await ping(client, ctx.signal);
  if (running) {
    ctx.result({ outcome: 'success', alreadyRunning: true, pid: running.pid, socket: paths.socketPath, dataRoot: paths.dataRoot });
    return 0;
  }
  await mkdir(paths.dataRoot, { recursive: true, mode: 0o711 });
  const log = await open(paths.logFile, 'a', 0o600);
  const args = [...BERTHD_NODE_FLAGS, path.join(__dirname, 'berthd.js'), '--data-root', paths.dataRoot, '--socket', paths.socketPath];
  const runtime = stringOption(values, 'runtime');
  if (runtime) args.push('--runtime', runtime);
  const snapshotter = stringOption(values, 'snapshotter');
  if (snapshotter) args.push('--snapshotter', snapshotter);
  for (const host of stringList(values, 'insecure-registry')) args.push('--insecure-registry', host);
  const auth = stringOption(values, 'registry-auth');
  if (auth) args.push('--registry-auth', path.resolve(auth));
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', log.fd, log.fd], env: ctx.env });
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  child.unref();
  await log.close();
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    ctx.signal.throwIfAborted();
    const up = await ping(client);
    if (up) {
      ctx.logger.info(`berthd is running (pid ${up.pid})`);
      ctx.result({ outcome: 'success', alreadyRunning: false, pid: up.pid, socket: paths.socketPath, dataRoot: paths.dataRoot });
      return 0;
    }
    if (exited !== undefined) break;
    await sleep(50);
  }
  const tail = (await readFile(paths.logFile, 'utf8').catch(() => '')).trim().split('\n').slice(-5).join('\n');
  throw new BerthError('unavailable', `berthd did not start${exited !== undefined ? ` (exit code ${String(exited)})` : ''}; log ${paths.logFile}:\n${tail}`);
}

async function stop(values: ParsedOptions, ctx: CommandContext): Promise<number> {
  const paths = pathsFrom(values, ctx.env);
  const client = new ApiClient({ socketPath: paths.socketPath });
  const running = await ping(client, ctx.signal);
  if (!running) {
    ctx.result({ outcome: 'success', wasRunning: false });
    return 0;
  }
  process.kill(running.pid, 'SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    try {
      process.kill(running.pid, 0);
    } catch {
      ctx.logger.info(`berthd (pid ${running.pid}) stopped; containers keep running`);
      ctx.result({ outcome: 'success', wasRunning: true, pid: running.pid });
      return 0;
    }
    await sleep(50);
  }
  throw new BerthError('unavailable', `berthd (pid ${running.pid}) did not stop within ${STOP_TIMEOUT_MS / 1000}s`);
}

async function status(values: ParsedOptions, ctx: CommandContext): Promise<number> {
  const paths = pathsFrom(values, ctx.env);
  const client = new ApiClient({ socketPath: paths.socketPath });
  const up = await ping(client, ctx.signal);
  if (!up) {
    ctx.result({ outcome: 'success', running: false, socket: paths.socketPath });
    return 3;
  }
  const info = await client.call('info', { signal: ctx.signal });
  ctx.result({ outcome: 'success', running: true, ...info, socket: paths.socketPath });
  return 0;
}

const VERBS: Readonly<Record<string, (values: ParsedOptions, ctx: CommandContext) => Promise<number>>> = { start, stop, status };

export const engineCommand: Command = {
  name: 'engine',
  summary: 'Start, stop or show the Berth runtime service (berthd).',
  usage: 'engine start|stop|status [--data-root DIR] [--socket PATH] [--runtime runc|crun] [--snapshotter overlay|native] [--insecure-registry HOST] [--registry-auth FILE]',
  allowPositionals: true,
  options: {
    'data-root': { type: 'string', valueName: 'DIR', description: 'State directory (default /var/lib/berth, or $BERTH_DATA_ROOT).' },
    socket: { type: 'string', valueName: 'PATH', description: 'API socket (default /run/berth/berth.sock, or $BERTH_SOCKET).' },
    snapshotter: { type: 'string', valueName: 'overlay|native', choices: ['overlay', 'native'], description: 'Layer storage (start only; default: overlay where it works, else plain copies).' },
    'insecure-registry': { type: 'string', multiple: true, valueName: 'HOST[:PORT]', description: 'Registry reached over plain HTTP (start only; 127.0.0.1, localhost and [::1] always are).' },
    'registry-auth': { type: 'string', valueName: 'FILE', description: 'Docker config.json with registry credentials (start only; default ~/.docker/config.json).' },
    runtime: { type: 'string', valueName: 'runc|crun', choices: ['runc', 'crun'], description: 'OCI runtime for new containers (start only; default: crun where it runs, else runc).' },
  },
  run(values, positionals, ctx) {
    const [verb, ...extra] = positionals;
    const fn = verb === undefined ? undefined : VERBS[verb];
    if (!fn || extra.length > 0) {
      return Promise.reject(new BerthError('invalid_argument', `usage: berth ${this.usage}`));
    }
    return fn(values, ctx);
  },
};
