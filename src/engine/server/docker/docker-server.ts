/**
 * The Docker Engine API (v1.44) on its own socket, for the docker CLI and
 * other Docker clients. Handlers only translate to the engine's services,
 * the same ones the native API uses.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { BerthError, toBerthError } from '../../../common/errors';
import type { Logger } from '../../../common/log';
import { statusForCode } from '../../../api/http-errors';
import type { EngineServices } from '../services';
import { parseFilters } from '../container-handlers';
import { containerInspect, containerSummary, createRequestFromDocker, dockerProgress, imageInspect, imageSummary, type DockerCreateBody } from './translate';
import { frame } from './frames';
import { hijack, send, truthy } from './respond';
import { networkRoutes } from './network-routes';
import { buildRoutes } from './build-routes';
import { volumeRoutes } from './volume-routes';
import { ExecRegistry } from './exec-registry';
import { execRoutes } from './exec-routes';
import { containerIoRoutes } from './container-io-routes';
import { eventRoutes } from './event-routes';
import { systemRoutes } from './system-routes';
import { imageIoRoutes, importFromRequest } from './image-io-routes';
import { authRoutes, withRegistryAuth } from './registry-auth';

export const DOCKER_API_VERSION = '1.44';
const MIN_API_VERSION = '1.24';

export interface Ctx {
  readonly req: http.IncomingMessage;
  readonly res: http.ServerResponse;
  readonly params: string[];
  readonly query: URLSearchParams;
  readonly signal: AbortSignal;
  readonly body: () => Promise<unknown>;
  /** The raw connection when the client asked to upgrade (attach, exec start). */
  readonly upgradeSocket?: Duplex;
}

export type Route = readonly [method: string, pattern: RegExp, handler: (ctx: Ctx) => Promise<void>];

function dockerStatus(err: BerthError): number {
  const status = err.code === 'conflict' ? 409 : err.code === 'failed_precondition' ? 409 : statusForCode(err.code);
  return status === 499 ? 500 : status;
}

function dockerError(res: http.ServerResponse, err: BerthError): void {
  if (res.headersSent) return void res.end();
  send(res, dockerStatus(err), { message: err.message });
}

export function dockerRoutes(services: EngineServices, info: { version: string; dataRoot: string }): Route[] {
  const { containers, images } = services;
  return [
    ['GET', /^\/_ping$/, ({ res }) => Promise.resolve(void res.end('OK'))],
    ['HEAD', /^\/_ping$/, ({ res }) => Promise.resolve(void res.end())],
    [
      'GET',
      /^\/version$/,
      async ({ res }) =>
        send(res, 200, {
          Version: info.version,
          ApiVersion: DOCKER_API_VERSION,
          MinAPIVersion: MIN_API_VERSION,
          Os: 'linux',
          Arch: process.arch === 'x64' ? 'amd64' : process.arch,
          KernelVersion: (await import('node:os')).release(),
          Components: [{ Name: 'Engine', Version: info.version, Details: { ApiVersion: DOCKER_API_VERSION } }],
          Platform: { Name: 'Berth' },
        }),
    ],
    [
      'GET',
      /^\/info$/,
      async ({ res }) => {
        const all = await containers.list({ all: true });
        const os = await import('node:os');
        send(res, 200, {
          ID: 'berth',
          Containers: all.length,
          ContainersRunning: all.filter((c) => c.state.status === 'running').length,
          ContainersPaused: 0,
          ContainersStopped: all.filter((c) => c.state.status !== 'running').length,
          Images: (await images.list()).length,
          Driver: 'overlay2',
          DockerRootDir: info.dataRoot,
          OperatingSystem: 'Berth',
          OSType: 'linux',
          Architecture: os.arch(),
          NCPU: os.cpus().length,
          MemTotal: os.totalmem(),
          Name: os.hostname(),
          ServerVersion: info.version,
          KernelVersion: os.release(),
          CgroupDriver: 'cgroupfs',
          SecurityOptions: ['name=seccomp,profile=builtin'],
          Runtimes: { runc: { path: 'runc' } },
          DefaultRuntime: 'runc',
        });
      },
    ],
    [
      'POST',
      /^\/images\/create$/,
      async ({ req, res, query, signal }) => {
        if (query.get('fromSrc')) return importFromRequest(images, req, res, query, signal);
        const from = query.get('fromImage');
        if (!from) throw new BerthError('invalid_argument', 'fromImage or fromSrc is required');
        const tag = query.get('tag');
        const ref = tag ? (tag.startsWith('sha256:') ? `${from}@${tag}` : `${from}:${tag}`) : from;
        res.writeHead(200, { 'content-type': 'application/json' });
        try {
          await withRegistryAuth(services, req, () => images.pull(ref, { signal, onProgress: (p) => res.write(`${JSON.stringify(dockerProgress(p))}\n`) }));
        } catch (err) {
          const e = toBerthError(err);
          res.write(`${JSON.stringify({ errorDetail: { message: e.message }, error: e.message })}\n`);
        }
        res.end();
      },
    ],
    ['GET', /^\/images\/json$/, async ({ res }) => send(res, 200, (await images.list()).map(imageSummary))],
    ['GET', /^\/images\/(.+)\/json$/, async ({ res, params }) => send(res, 200, imageInspect(await images.get(params[0] ?? '')))],
    [
      'POST',
      /^\/images\/(.+)\/tag$/,
      async ({ res, params, query }) => {
        const repo = query.get('repo');
        if (!repo) throw new BerthError('invalid_argument', 'repo is required');
        await images.tag(params[0] ?? '', `${repo}:${query.get('tag') || 'latest'}`);
        send(res, 201, undefined);
      },
    ],
    [
      'DELETE',
      /^\/images\/(.+)$/,
      async ({ res, params, query }) => {
        const r = await images.remove(params[0] ?? '', { force: truthy(query.get('force')) });
        send(res, 200, [...r.untagged.map((u) => ({ Untagged: u })), ...r.deleted.map((d) => ({ Deleted: d }))]);
      },
    ],
    [
      'POST',
      /^\/containers\/create$/,
      async ({ res, query, body, signal }) => {
        const request = createRequestFromDocker((await body()) as DockerCreateBody, query.get('name') ?? undefined);
        const record = await containers.create(request, { signal });
        send(res, 201, { Id: record.id, Warnings: [] });
      },
    ],
    [
      'GET',
      /^\/containers\/json$/,
      async ({ res, query }) => send(res, 200, (await containers.list(parseFilters(query.get('filters') ?? undefined, truthy(query.get('all'))))).map(containerSummary)),
    ],
    ['GET', /^\/containers\/([^/]+)\/json$/, async ({ res, params }) => send(res, 200, containerInspect(await containers.inspect(params[0] ?? '')))],
    [
      'POST',
      /^\/containers\/([^/]+)\/start$/,
      async ({ res, params, signal }) => {
        const c = await containers.inspect(params[0] ?? '');
        if (c.state.status === 'running') return send(res, 304, undefined);
        await containers.start(c.id, { signal });
        send(res, 204, undefined);
      },
    ],
    [
      'POST',
      /^\/containers\/([^/]+)\/stop$/,
      async ({ res, params, query }) => {
        const c = await containers.inspect(params[0] ?? '');
        if (c.state.status !== 'running') return send(res, 304, undefined);
        const t = query.get('t');
        await containers.stop(c.id, t ? { timeout: Number(t) } : {});
        send(res, 204, undefined);
      },
    ],
    [
      'POST',
      /^\/containers\/([^/]+)\/kill$/,
      async ({ res, params, query }) => {
        await containers.kill(params[0] ?? '', query.get('signal') ?? undefined);
        send(res, 204, undefined);
      },
    ],
    [
      'POST',
      /^\/containers\/([^/]+)\/restart$/,
      async ({ res, params, query }) => {
        const t = query.get('t');
        await containers.restart(params[0] ?? '', t ? { timeout: Number(t) } : {});
        send(res, 204, undefined);
      },
    ],
    [
      'POST',
      /^\/containers\/([^/]+)\/wait$/,
      async ({ res, params, query, signal }) => {
        const c = await containers.inspect(params[0] ?? '');
        // The exit may come and go (auto-remove) before we look again: listen for it from now on.
        let died: number | undefined;
        let destroyed = false;
        const unsubscribe = services.events.subscribe((e) => {
          if (e.id === c.id && e.action === 'die') died = Number(e.attributes['exitCode'] ?? -1);
          if (e.id === c.id && e.action === 'destroy') destroyed = true;
        });
        // Headers go out at once: clients wait on the body.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        try {
          // `docker run` waits before it starts the container: wait for the next exit, not the last state.
          for (;;) {
            if (died !== undefined || signal.aborted) break;
            const status = await containers.inspect(c.id).then(
              (r) => r.state.status,
              () => 'gone',
            );
            if (status !== 'created') break;
            await new Promise((r) => setTimeout(r, 10));
          }
          const exitCode = died ?? (await containers.wait(c.id, { signal }).then((w) => w.exitCode, () => died ?? -1));
          // condition=removed (`docker run --rm`): answer once the container and its anonymous volumes are gone (its destroy event).
          const failed = (): Promise<boolean> => containers.inspect(c.id).then((r) => r.state.status === 'dead', () => false);
          if (query.get('condition') === 'removed') while (!destroyed && !signal.aborted && !(await failed())) await new Promise((r) => setTimeout(r, 10));
          res.end(JSON.stringify({ StatusCode: exitCode, Error: null }));
        } catch (err) {
          res.end(JSON.stringify({ StatusCode: -1, Error: { Message: toBerthError(err).message } }));
        } finally {
          unsubscribe();
        }
      },
    ],
    [
      'GET',
      /^\/containers\/([^/]+)\/logs$/,
      async ({ res, params, query, signal }) => {
        const c = await containers.inspect(params[0] ?? '');
        const tail = query.get('tail');
        const follow = truthy(query.get('follow'));
        const timestamps = truthy(query.get('timestamps'));
        const wantOut = truthy(query.get('stdout'));
        const wantErr = truthy(query.get('stderr'));
        res.writeHead(200, { 'content-type': c.request.tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' });
        res.flushHeaders();
        const lines = containers.logs(c.id, { follow, signal, ...(tail && tail !== 'all' ? { tail: Number(tail) } : {}) });
        for await (const l of lines) {
          if ((l.stream === 'stdout' && !wantOut) || (l.stream === 'stderr' && !wantErr)) continue;
          const data = Buffer.from(`${timestamps ? `${l.time} ` : ''}${l.line}\n`);
          res.write(c.request.tty ? data : frame(l.stream, data));
        }
        res.end();
      },
    ],
    [
      'POST',
      /^\/containers\/([^/]+)\/attach$/,
      async (ctx) => {
        const { params, query, signal } = ctx;
        const c = await containers.inspect(params[0] ?? '');
        const socket = hijack(ctx, c.request.tty === true);
        if (!truthy(query.get('stream'))) return void socket.end();
        const wantOut = truthy(query.get('stdout'));
        const wantErr = truthy(query.get('stderr'));
        // Output from the container's start until it exits. A container that never ran has
        // an empty log, so read it from the beginning: the client may start it before we look.
        const fromStart = c.state.status === 'created';
        while (fromStart && (await containers.inspect(c.id)).state.status === 'created' && !signal.aborted) await new Promise((r) => setTimeout(r, 5));
        for await (const l of containers.logs(c.id, { follow: true, signal, ...(fromStart ? {} : { tail: 0 }) })) {
          if ((l.stream === 'stdout' && !wantOut) || (l.stream === 'stderr' && !wantErr)) continue;
          const data = Buffer.from(`${l.line}\n`);
          socket.write(c.request.tty ? data : frame(l.stream, data));
        }
        socket.end();
      },
    ],
    [
      'DELETE',
      /^\/containers\/([^/]+)$/,
      async ({ res, params, query }) => {
        await containers.remove(params[0] ?? '', { force: truthy(query.get('force')), volumes: truthy(query.get('v')) });
        send(res, 204, undefined);
      },
    ],
    ...volumeRoutes(services.volumes),
    ...execRoutes(containers, new ExecRegistry()),
    ...containerIoRoutes(containers),
    ...imageIoRoutes(images, services),
    ...eventRoutes(services.events),
    ...systemRoutes(services),
    ...authRoutes(services),
    ...networkRoutes(services.networks, containers),
    ...buildRoutes(services.builder),
  ];
}

/** The first `length` bytes of the upgraded stream (the request body); what follows stays on the socket. */
async function upgradeBody(socket: Duplex, head: Buffer, length: number): Promise<Buffer> {
  let have = head;
  while (have.length < length) {
    const chunk = await new Promise<Buffer | undefined>((resolve) => {
      const done = (c?: Buffer): void => {
        socket.off('data', done);
        socket.off('end', onEnd);
        socket.pause();
        resolve(c);
      };
      const onEnd = (): void => done();
      socket.on('data', done);
      socket.once('end', onEnd);
      socket.resume();
    });
    if (!chunk) break;
    have = Buffer.concat([have, chunk]);
  }
  const rest = have.subarray(length);
  if (rest.length > 0) socket.unshift(rest);
  return have.subarray(0, length);
}

export interface DockerHandler {
  readonly request: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  /** Requests with `Upgrade: tcp` (attach, exec start) arrive here with their raw socket. */
  readonly upgrade: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;
}

export function createDockerHandler(services: EngineServices, info: { version: string; dataRoot: string }, logger: Logger): DockerHandler {
  const routes = dockerRoutes(services, info);
  const request = (req: http.IncomingMessage, res: http.ServerResponse, upgradeSocket?: Duplex, upgradeBody?: Promise<Buffer>): void => {
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    res.setHeader('Api-Version', DOCKER_API_VERSION);
    res.setHeader('Ostype', 'linux');
    res.setHeader('Docker-Experimental', 'false');
    res.setHeader('Server', `Berth/${info.version}`);
    const url = new URL(req.url ?? '/', 'http://docker');
    const pathname = url.pathname.replace(/^\/v\d+\.\d+(?=\/)/, '');
    let bodyPromise: Promise<unknown> | undefined;
    const body = (): Promise<unknown> =>
      (bodyPromise ??= (async () => {
        const chunks: Buffer[] = [];
        if (upgradeBody) chunks.push(await upgradeBody);
        else for await (const c of req) chunks.push(c as Buffer);
        const text = Buffer.concat(chunks).toString('utf8');
        if (text === '') return {};
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw new BerthError('invalid_argument', 'request body is not valid JSON');
        }
      })());
    const route = routes.find(([method, pattern]) => method === req.method && pattern.test(pathname));
    if (!route) {
      send(res, 404, { message: `page not found: ${req.method ?? '?'} ${pathname} is not supported by Berth yet` });
      return;
    }
    const params = (route[1].exec(pathname) ?? []).slice(1).map((p) => decodeURIComponent(p));
    route[2]({ req, res, params, query: url.searchParams, signal: controller.signal, body, ...(upgradeSocket ? { upgradeSocket } : {}) }).catch((err: unknown) => {
      const e = toBerthError(err);
      if (e.code === 'internal') logger.error('docker API request failed', { url: req.url, error: e.message });
      if (upgradeSocket) {
        const text = JSON.stringify({ message: e.message });
        upgradeSocket.end(`HTTP/1.1 ${dockerStatus(e)} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
      } else dockerError(res, e);
    });
  };
  return {
    request: (req, res) => request(req, res),
    upgrade: (req, socket, head) => {
      const res = new http.ServerResponse(req);
      socket.on('error', () => undefined);
      // Node hands an upgrade request's body over with the raw stream: split it off.
      request(req, res, socket, upgradeBody(socket, head, Number(req.headers['content-length'] ?? 0)));
    },
  };
}
