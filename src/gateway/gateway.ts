/**
 * `berth serve`: an HTTPS + WebSocket gateway in front of berthd's native
 * API. Every request carries a token (Authorization: Bearer, or the
 * dashboard's cookie); auth failures are counted per remote address (429
 * past the limit). /v1/* is the native API narrowed to the user's own
 * containers and volumes (api-proxy.ts); /gw/* is the gateway's own (login,
 * the dashboard's terminal, forwarded web ports, rebuild, up); / serves
 * the dashboard.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { ApiClient } from '../api/client';
import { matchPath } from '../api/routes';
import { BerthError, toBerthError } from '../common/errors';
import type { Logger } from '../common/log';
import { proxyAgentUpgrade } from './agent-proxy';
import { findOperation, proxyApi, type ApiProxyContext } from './api-proxy';
import { readBody } from './forward';
import { IdleTracker } from './idle';
import { isLoopback, type ListenAddress } from './listen';
import { ownedContainer } from './ownership';
import { AuthLimiter } from './rate-limit';
import { AgentPool, PORT_PATH, proxyPort } from './port-proxy';
import { refuseUpgrade, sendError, sendJson } from './respond';
import { serveStatic } from './static-files';
import { runTerminal } from './terminal';
import type { TlsIdentity } from './tls';
import type { TokenStore } from './tokens';
import { parseUpRequest, type GatewayUpRequest } from './up-request';

/** Work that needs the dev container layer, given by the CLI: each gets an API client that acts as the user. */
export interface GatewayActions {
  rebuild(api: ApiClient, containerId: string, signal: AbortSignal): Promise<unknown>;
  up(api: ApiClient, request: GatewayUpRequest, signal: AbortSignal): Promise<unknown>;
}

export interface GatewayOptions {
  readonly engineSocket: string;
  readonly tokens: TokenStore;
  readonly listen: ListenAddress;
  /** Absent: plain HTTP, allowed on loopback only. */
  readonly tls?: TlsIdentity;
  /** 0: containers never stop for idling. */
  readonly idleTimeoutMs: number;
  readonly authFailures: number;
  readonly authWindowMs: number;
  readonly dashboardDir?: string;
  readonly actions?: GatewayActions;
  readonly logger: Logger;
}

export interface Gateway extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const COOKIE = 'berth_token';
const INTERNAL = 'x-berth-internal';
const INTERNAL_USER = 'x-berth-user';

function cookieToken(req: http.IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

function bearer(req: http.IncomingMessage): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return m?.[1] ?? cookieToken(req);
}

export async function startGateway(o: GatewayOptions): Promise<Gateway> {
  if (!o.tls && !isLoopback(o.listen.host)) {
    throw new BerthError('failed_precondition', `refusing plain HTTP on ${o.listen.host}, which is not a loopback address: serve TLS (--tls-cert/--tls-key, or the self-signed default)`);
  }
  const logger = o.logger.child({ component: 'gateway' });
  const engine = new ApiClient({ socketPath: o.engineSocket });
  const idle = new IdleTracker(engine, o.idleTimeoutMs, logger);
  const limiter = new AuthLimiter({ maxFailures: o.authFailures, windowMs: o.authWindowMs });
  const ctx: ApiProxyContext = { engine, socketPath: o.engineSocket, idle };
  const ports = new AgentPool(engine);
  const internalSecret = randomBytes(32).toString('hex');
  const internalDir = await mkdtemp(path.join(os.tmpdir(), 'berth-gateway-'));
  const internalSocket = path.join(internalDir, 'internal.sock');
  const asUser = (user: string): ApiClient => new ApiClient({ socketPath: internalSocket, headers: { [INTERNAL]: internalSecret, [INTERNAL_USER]: user }, describe: 'the gateway' });

  const addressOf = (req: http.IncomingMessage): string => req.socket.remoteAddress ?? 'unknown';

  /** The request's user, or an error (and a counted failure). */
  const authenticate = async (req: http.IncomingMessage, internal: boolean): Promise<string> => {
    if (internal) {
      if (req.headers[INTERNAL] !== internalSecret || typeof req.headers[INTERNAL_USER] !== 'string') throw new BerthError('unauthenticated', 'bad internal request');
      return req.headers[INTERNAL_USER];
    }
    const address = addressOf(req);
    const wait = limiter.retryAfter(address);
    if (wait > 0) throw Object.assign(new BerthError('resource_exhausted', 'too many failed logins from this address; try again later'), { retryAfterMs: wait });
    const token = bearer(req);
    try {
      if (!token) throw new BerthError('unauthenticated', 'a token is required (Authorization: Bearer TOKEN; create one with berth token create)');
      return (await o.tokens.verify(token)).user;
    } catch (err) {
      // A token that does not hold counts; none at all is no guess.
      if (token && BerthError.is(err, 'unauthenticated')) {
        limiter.fail(address);
        logger.warn('auth failure', { address, reason: err.message });
      }
      throw err;
    }
  };

  const login = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const address = addressOf(req);
    const wait = limiter.retryAfter(address);
    if (wait > 0) throw Object.assign(new BerthError('resource_exhausted', 'too many failed logins from this address; try again later'), { retryAfterMs: wait });
    let token = '';
    try {
      const given = (JSON.parse((await readBody(req)).toString('utf8') || '{}') as { token?: unknown }).token;
      token = typeof given === 'string' ? given : '';
    } catch {
      throw new BerthError('invalid_argument', 'expected {"token": "..."}');
    }
    const who = await o.tokens.verify(token).catch((err: unknown) => {
      if (token) limiter.fail(address);
      logger.warn('auth failure', { address, reason: String((err as Error).message) });
      throw err;
    });
    const cookie = `${COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict${o.tls ? '; Secure' : ''}`;
    sendJson(res, 200, { user: who.user }, { 'set-cookie': cookie });
  };

  const gatewayRoute = async (user: string, req: http.IncomingMessage, res: http.ServerResponse, url: URL, signal: AbortSignal): Promise<void> => {
    if (req.method === 'GET' && url.pathname === '/gw/whoami') return sendJson(res, 200, { user, idleTimeoutMs: o.idleTimeoutMs });
    const port = PORT_PATH.exec(url.pathname);
    if (port) {
      const record = await ownedContainer(engine, user, decodeURIComponent(port[1] ?? ''), signal);
      if (!port[3]) {
        res.writeHead(308, { location: `${url.pathname}/${url.search}` });
        res.end();
        return;
      }
      idle.touch(record.id);
      return proxyPort(ports, record.id, Number(port[2]), `${port[3]}${url.search}`, req, res, signal);
    }
    const rebuild = matchPath('/gw/containers/{id}/rebuild', url.pathname);
    if (req.method === 'POST' && rebuild) {
      if (!o.actions) throw new BerthError('not_implemented', 'this gateway cannot rebuild');
      const record = await ownedContainer(engine, user, rebuild['id'] ?? '', signal);
      return sendJson(res, 200, await o.actions.rebuild(asUser(user), record.id, signal));
    }
    if (req.method === 'POST' && url.pathname === '/gw/up') {
      if (!o.actions) throw new BerthError('not_implemented', 'this gateway cannot run up');
      let body: unknown;
      try {
        body = JSON.parse((await readBody(req)).toString('utf8'));
      } catch {
        throw new BerthError('invalid_argument', 'the up request is not valid JSON');
      }
      return sendJson(res, 200, await o.actions.up(asUser(user), parseUpRequest(body), signal));
    }
    throw new BerthError('not_found', `no such gateway route: ${req.method ?? ''} ${url.pathname}`);
  };

  const handle = (internal: boolean) => (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort(new BerthError('cancelled', 'client went away'));
    });
    const url = new URL(req.url ?? '/', 'http://gateway');
    void (async () => {
      if (!internal && !url.pathname.startsWith('/v1/') && !url.pathname.startsWith('/gw/')) {
        // The dashboard's files, without a token (a browser's /favicon.ico is no failed login).
        if (req.method === 'GET' && o.dashboardDir && (await serveStatic(o.dashboardDir, url.pathname, res))) return;
        throw new BerthError('not_found', `no such path: ${url.pathname}`);
      }
      if (!internal && req.method === 'POST' && url.pathname === '/gw/login') return login(req, res);
      if (!internal && req.method === 'POST' && url.pathname === '/gw/logout') {
        return sendJson(res, 200, { ok: true }, { 'set-cookie': `${COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict` });
      }
      const user = await authenticate(req, internal);
      if (url.pathname.startsWith('/gw/')) return gatewayRoute(user, req, res, url, controller.signal);
      return proxyApi(ctx, user, req, res, controller.signal);
    })().catch((err: unknown) => {
      const e = toBerthError(err);
      if (e.code === 'internal') logger.error('request failed', { method: req.method, url: url.pathname, error: e.message });
      if (!res.destroyed) sendError(res, e, (err as { retryAfterMs?: number }).retryAfterMs);
    });
  };

  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1024 * 1024 });
  // Upgraded sockets are the server's no more: closing the gateway ends them by hand.
  const upgraded = new Set<Duplex>();
  const upgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    socket.on('error', () => undefined);
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    void (async () => {
      const user = await authenticate(req, false);
      const terminal = matchPath('/gw/containers/{id}/terminal', url.pathname);
      const agent = findOperation(req.method ?? 'GET', url.pathname);
      if (terminal) {
        const record = await ownedContainer(engine, user, terminal['id'] ?? '');
        wss.handleUpgrade(req, socket, head, (ws) => {
          const end = idle.begin(record.id);
          runTerminal(ws, engine, record.id, url.searchParams, logger).finally(end).catch(() => undefined);
        });
        return;
      }
      if (agent?.op === 'containerAgent') {
        const record = await ownedContainer(engine, user, agent.params['id'] ?? '');
        proxyAgentUpgrade(o.engineSocket, record.id, req, socket, head, idle.begin(record.id));
        return;
      }
      throw new BerthError('not_found', `no upgrade at ${url.pathname}`);
    })().catch((err: unknown) => refuseUpgrade(socket, err, (err as { retryAfterMs?: number }).retryAfterMs));
  };

  const server = o.tls ? https.createServer({ cert: o.tls.cert, key: o.tls.key }, handle(false)) : http.createServer(handle(false));
  server.on('upgrade', upgrade);
  const internalServer = http.createServer(handle(true));
  await new Promise<void>((resolve, reject) => {
    internalServer.once('error', reject);
    internalServer.listen(internalSocket, () => resolve());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new BerthError(err.code === 'EADDRINUSE' ? 'conflict' : 'unavailable', `cannot listen on ${o.listen.host}:${o.listen.port}: ${err.message}`, { cause: err })),
    );
    server.listen(o.listen.port, o.listen.host, () => resolve());
  });
  idle.start();
  const port = (server.address() as net.AddressInfo).port;
  const host = o.listen.host.includes(':') ? `[${o.listen.host}]` : o.listen.host;
  const url = `${o.tls ? 'https' : 'http'}://${host}:${port}`;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      idle.stop();
      ports.close();
      for (const ws of wss.clients) ws.terminate();
      for (const socket of upgraded) socket.destroy();
      await Promise.all(
        [server, internalServer].map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
      await rm(internalDir, { recursive: true, force: true });
    })());
  return { url, port, close, [Symbol.asyncDispose]: close };
}
