/**
 * The native API through the gateway, for one authenticated user. Requests
 * are checked against the owner, then forwarded to the engine's socket as
 * they are: shared reads (images, networks) pass, containers and volumes
 * must be the user's (creates get the owner label, lists are narrowed to
 * it), and what would reach past one user (push, image removal, networks'
 * changes) is refused.
 */
import type http from 'node:http';
import type { ApiClient } from '../api/client';
import { fillPath, matchPath, ROUTES, type OperationName } from '../api/routes';
import type { ContainerCreateRequest, MountRequest } from '../api/types/containers';
import { BerthError } from '../common/errors';
import { forward, readBody } from './forward';
import type { IdleTracker } from './idle';
import { OWNER_LABEL, ownedContainer, ownedVolume, withOwnerFilter } from './ownership';

export interface ApiProxyContext {
  readonly engine: ApiClient;
  readonly socketPath: string;
  readonly idle: IdleTracker;
}

const SHARED: ReadonlySet<OperationName> = new Set(['ping', 'info', 'imagePull', 'imageList', 'imageInspect', 'imageTag', 'imageBuild', 'artifactPull', 'networkList', 'networkInspect']);
const REFUSED: ReadonlySet<OperationName> = new Set(['imagePush', 'imageRemove', 'artifactPush', 'networkCreate', 'networkRemove', 'networkConnect', 'networkDisconnect']);
const CONTAINER_OPS: ReadonlySet<OperationName> = new Set([
  'containerInspect',
  'containerStart',
  'containerStop',
  'containerKill',
  'containerRestart',
  'containerWait',
  'containerLogs',
  'containerRemove',
  'containerExec',
  'containerStats',
  'containerAgentCredentials',
  'containerFilesRead',
  'containerFilesWrite',
]);

const TABLE = (Object.keys(ROUTES) as OperationName[]).map((op) => ({ op, route: ROUTES[op] }));

export function findOperation(method: string, pathname: string): { op: OperationName; params: Record<string, string> } | undefined {
  for (const { op, route } of TABLE) {
    if (route.method !== method) continue;
    const params = matchPath(route.path, pathname);
    if (params) return { op, params };
  }
  return undefined;
}

function parseJson(body: Buffer, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = body.length ? JSON.parse(body.toString('utf8')) : {};
  } catch {
    throw new BerthError('invalid_argument', `${what} is not valid JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BerthError('invalid_argument', `${what} must be a JSON object`);
  return v as Record<string, unknown>;
}

/** A create request made the user's: owner label on it and on the volumes it makes; others' volumes and containers out of reach. */
async function ownCreateRequest(ctx: ApiProxyContext, user: string, body: Record<string, unknown>, signal: AbortSignal): Promise<ContainerCreateRequest> {
  const request = body as unknown as ContainerCreateRequest;
  const mounts: MountRequest[] = [];
  const given: readonly MountRequest[] = Array.isArray(request.mounts) ? request.mounts : [];
  for (const m of given) {
    if (m.type === 'volume') {
      if (m.source) await ownedVolume(ctx.engine, user, m.source, signal);
      mounts.push({ ...m, volumeLabels: { ...m.volumeLabels, [OWNER_LABEL]: user } });
    } else mounts.push(m);
  }
  if (typeof request.networkMode === 'string' && request.networkMode.startsWith('container:')) {
    await ownedContainer(ctx.engine, user, request.networkMode.slice('container:'.length), signal);
  }
  return { ...request, labels: { ...request.labels, [OWNER_LABEL]: user }, ...(request.mounts ? { mounts } : {}) };
}

export async function proxyApi(ctx: ApiProxyContext, user: string, req: http.IncomingMessage, res: http.ServerResponse, signal: AbortSignal): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://gateway');
  const method = req.method ?? 'GET';
  const found = findOperation(method, url.pathname);
  if (!found) throw new BerthError('not_found', `no such API route: ${method} ${url.pathname}`);
  const { op, params } = found;
  const route = ROUTES[op];
  if (route.response === 'upgrade') throw new BerthError('invalid_argument', `${op} needs a WebSocket upgrade`);
  if (REFUSED.has(op)) throw new BerthError('permission_denied', `${op} is not allowed through the gateway`);
  const query = url.searchParams;
  const send = (path: string, body?: Buffer | http.IncomingMessage, onEnd?: () => void): Promise<void> =>
    forward(ctx.socketPath, { method, path, ...(body ? { body, contentType: body === req ? (req.headers['content-type'] ?? 'application/octet-stream') : 'application/json' } : {}) }, res, signal, onEnd);
  const withQuery = (path: string): string => (query.size ? `${path}?${query.toString()}` : path);

  if (SHARED.has(op)) return send(url.pathname + url.search, route.request === 'tar' ? req : await readBody(req));
  if (CONTAINER_OPS.has(op)) {
    const record = await ownedContainer(ctx.engine, user, params['id'] ?? '', signal);
    const path = withQuery(fillPath(route.path, { ...params, id: record.id }));
    const body = await readBody(req);
    if (op === 'containerExec') return send(path, body, ctx.idle.begin(record.id));
    if (op === 'containerStart' || op === 'containerRestart') ctx.idle.touch(record.id);
    return send(path, body.length ? body : undefined);
  }
  switch (op) {
    case 'containerCreate': {
      const request = await ownCreateRequest(ctx, user, parseJson(await readBody(req), 'the create request'), signal);
      return send(url.pathname, Buffer.from(JSON.stringify(request)));
    }
    case 'containerList':
    case 'events':
    case 'volumeList':
      query.set('filters', withOwnerFilter(query.get('filters') ?? undefined, user));
      return send(withQuery(url.pathname));
    case 'volumeCreate': {
      const body = parseJson(await readBody(req), 'the volume request');
      const name = typeof body['name'] === 'string' ? body['name'] : undefined;
      if (name && (await ownedVolume(ctx.engine, user, name, signal).catch(() => 'taken' as const)) === 'taken') {
        throw new BerthError('already_exists', `volume ${name} belongs to another user`);
      }
      const labels = typeof body['labels'] === 'object' && body['labels'] !== null ? (body['labels'] as Record<string, string>) : {};
      return send(url.pathname, Buffer.from(JSON.stringify({ ...body, labels: { ...labels, [OWNER_LABEL]: user } })));
    }
    case 'volumeInspect':
    case 'volumeRemove': {
      const name = params['name'] ?? '';
      if (!(await ownedVolume(ctx.engine, user, name, signal))) throw new BerthError('not_found', `no such volume: ${name}`);
      return send(url.pathname + url.search);
    }
    case 'volumePrune': {
      const body = parseJson(await readBody(req), 'the prune filters');
      const label = Array.isArray(body['label']) ? (body['label'] as string[]) : [];
      return send(url.pathname, Buffer.from(JSON.stringify({ ...body, label: [...label, `${OWNER_LABEL}=${user}`] })));
    }
    default:
      throw new BerthError('permission_denied', `${op} is not allowed through the gateway`);
  }
}
