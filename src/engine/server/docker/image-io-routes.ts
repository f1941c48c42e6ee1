/**
 * Docker's image endpoints that move images in and out: push (progress
 * stream), load (docker save tar or OCI layout), get (save), import
 * (fromSrc=-, a rootfs tarball) and prune, translated to the image store.
 */
import type http from 'node:http';
import type { ImageStore } from '../../../api/types/images';
import type { ImageRuntimeConfig } from '../../../api/types/oci';
import { BerthError, toBerthError } from '../../../common/errors';
import { parseFilterJson } from '../../volumes/filters';
import type { Route } from './docker-server';
import { send, truthy } from './respond';
import type { EngineServices } from '../services';
import { withRegistryAuth } from './registry-auth';
import { dockerProgress } from './translate';

function streamError(res: http.ServerResponse, err: unknown): void {
  const e = toBerthError(err);
  res.write(`${JSON.stringify({ errorDetail: { message: e.message }, error: e.message })}\n`);
}

function words(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    const parsed = JSON.parse(trimmed) as unknown;
    if (Array.isArray(parsed) && parsed.every((x): x is string => typeof x === 'string')) return parsed;
    throw new BerthError('invalid_argument', `not a JSON list of strings: ${text}`);
  }
  return ['/bin/sh', '-c', trimmed];
}

/** `docker import --change`: the Dockerfile instructions that only set config. */
export function applyChanges(changes: readonly string[]): ImageRuntimeConfig {
  const config: { -readonly [K in keyof ImageRuntimeConfig]: ImageRuntimeConfig[K] } = {};
  for (const change of changes) {
    const m = /^\s*(\w+)\s+(.*)$/s.exec(change);
    if (!m) throw new BerthError('invalid_argument', `invalid change: ${change}`);
    const [, instruction = '', rest = ''] = m;
    switch (instruction.toUpperCase()) {
      case 'CMD':
        config.Cmd = words(rest);
        break;
      case 'ENTRYPOINT':
        config.Entrypoint = words(rest);
        break;
      case 'ENV': {
        const pairs = rest.includes('=') ? rest.trim().split(/\s+(?=[^=\s]+=)/) : [rest.trim().replace(/\s+/, '=')];
        config.Env = [...(config.Env ?? []), ...pairs];
        break;
      }
      case 'WORKDIR':
        config.WorkingDir = rest.trim();
        break;
      case 'USER':
        config.User = rest.trim();
        break;
      case 'STOPSIGNAL':
        config.StopSignal = rest.trim();
        break;
      case 'LABEL': {
        const labels: Record<string, string> = { ...(config.Labels ?? {}) };
        for (const pair of rest.trim().split(/\s+(?=[^=\s]+=)/)) {
          const eq = pair.indexOf('=');
          if (eq > 0) labels[pair.slice(0, eq).replace(/^"(.*)"$/, '$1')] = pair.slice(eq + 1).replace(/^"(.*)"$/, '$1');
        }
        config.Labels = labels;
        break;
      }
      case 'EXPOSE':
        config.ExposedPorts = { ...(config.ExposedPorts ?? {}), ...Object.fromEntries(rest.trim().split(/\s+/).map((p) => [p.includes('/') ? p : `${p}/tcp`, {}])) };
        break;
      case 'VOLUME':
        config.Volumes = { ...(config.Volumes ?? {}), ...Object.fromEntries((rest.trim().startsWith('[') ? words(rest) : rest.trim().split(/\s+/)).map((v) => [v, {}])) };
        break;
      default:
        throw new BerthError('invalid_argument', `${instruction} is not supported by import --change`);
    }
  }
  return config;
}

/** POST /images/create?fromSrc=-: the body is a rootfs tarball. */
export async function importFromRequest(images: ImageStore, req: http.IncomingMessage, res: http.ServerResponse, query: URLSearchParams, signal: AbortSignal): Promise<void> {
  if (query.get('fromSrc') !== '-') throw new BerthError('invalid_argument', 'import from a URL is not supported; pipe the tarball (fromSrc=-)');
  const repo = query.get('repo');
  const tag = query.get('tag');
  const reference = repo ? (tag ? `${repo}:${tag}` : repo) : undefined;
  const config = applyChanges(query.getAll('changes'));
  const message = query.get('message');
  res.writeHead(200, { 'content-type': 'application/json' });
  try {
    const record = await images.importImage(req, { ...(reference ? { reference } : {}), config, ...(message ? { message } : {}), signal });
    res.write(`${JSON.stringify({ status: record.id })}\n`);
  } catch (err) {
    streamError(res, err);
  }
  res.end();
}

async function save(images: ImageStore, names: string[], res: http.ServerResponse, signal: AbortSignal): Promise<void> {
  // Resolve first: an unknown name is a 404, not a broken tar.
  await Promise.all(names.map((n) => images.get(n)));
  res.writeHead(200, { 'content-type': 'application/x-tar' });
  await images.save(names, res, { signal }).catch(() => res.destroy());
}

export function imageIoRoutes(images: ImageStore, services: Pick<EngineServices, 'registryCredentials'>): Route[] {
  return [
    [
      'POST',
      /^\/images\/(.+)\/push$/,
      async ({ req, res, params, query, signal }) => {
        const name = params[0] ?? '';
        const tag = query.get('tag') || 'latest';
        const reference = `${name}:${tag}`;
        res.writeHead(200, { 'content-type': 'application/json' });
        try {
          let size = 0;
          const digest = await withRegistryAuth(services, req, () =>
            images.push(reference, {
              signal,
              onProgress: (p) => {
                if (p.total) size = Math.max(size, p.total);
                res.write(`${JSON.stringify(dockerProgress(p))}\n`);
              },
            }),
          );
          const manifest = await images.get(reference);
          res.write(`${JSON.stringify({ progressDetail: {}, aux: { Tag: tag, Digest: digest, Size: manifest.size } })}\n`);
        } catch (err) {
          streamError(res, err);
        }
        res.end();
      },
    ],
    [
      'POST',
      /^\/images\/load$/,
      async ({ req, res, query, signal }) => {
        const quiet = truthy(query.get('quiet'));
        res.writeHead(200, { 'content-type': 'application/json' });
        try {
          await images.load(req, { signal, onProgress: (p) => (quiet && !p.status.startsWith('Loaded') ? undefined : res.write(`${JSON.stringify({ stream: `${p.status}\n` })}\n`)) });
        } catch (err) {
          streamError(res, err);
        }
        res.end();
      },
    ],
    ['GET', /^\/images\/get$/, ({ res, query, signal }) => save(images, query.getAll('names'), res, signal)],
    ['GET', /^\/images\/(.+)\/get$/, ({ res, params, signal }) => save(images, [params[0] ?? ''], res, signal)],
    [
      'POST',
      /^\/images\/prune$/,
      async ({ res, query }) => {
        const f = parseFilterJson(query.get('filters'), ['dangling', 'label', 'until']);
        if (f['until']) throw new BerthError('invalid_argument', 'the until filter of image prune is not supported');
        const all = f['dangling']?.some((v) => v === 'false' || v === '0') ?? false;
        const r = await images.prune({ all, ...(f['label'] ? { label: f['label'] } : {}) });
        send(res, 200, { ImagesDeleted: [...r.untagged.map((u) => ({ Untagged: u })), ...r.deleted.map((d) => ({ Deleted: d }))], SpaceReclaimed: r.spaceReclaimed });
      },
    ],
  ];
}
