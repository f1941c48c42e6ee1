/**
 * `POST /build`, Docker's classic builder API (what `DOCKER_BUILDKIT=0
 * docker build` and the devcontainers CLI's non-BuildKit path call): a tar
 * context in; `{"stream": ...}` lines, `{"aux": {"ID": ...}}` and, on
 * failure, `{"errorDetail": ..., "error": ...}` out. Translated to the
 * engine's builder.
 */
import type { BuildOptions } from '../../../api/types/build';
import { BerthError, notYet, toBerthError } from '../../../common/errors';
import type { BuildService } from '../services';
import type { Route } from './docker-server';

const truthy = (v: string | null): boolean => v === '1' || v === 'true' || v === 'True';

function jsonMap(text: string | null, what: string): Record<string, string> {
  if (!text) return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new BerthError('invalid_argument', `${what} must be a JSON object`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BerthError('invalid_argument', `${what} must be a JSON object`);
  const out: Record<string, string> = {};
  // A null value is an arg named without a value that the client could not fill: Docker leaves it unset.
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) if (typeof val === 'string') out[k] = val;
  return out;
}

/** The classic builder's query parameters as build options. */
export function buildOptionsFromQuery(query: URLSearchParams): BuildOptions {
  const target = query.get('target');
  const dockerfile = query.get('dockerfile');
  const network = query.get('networkmode');
  return {
    ...(dockerfile ? { dockerfile } : {}),
    tags: query.getAll('t').filter(Boolean),
    ...(target ? { target } : {}),
    buildArgs: jsonMap(query.get('buildargs'), 'buildargs'),
    labels: jsonMap(query.get('labels'), 'labels'),
    noCache: truthy(query.get('nocache')),
    pull: truthy(query.get('pull')),
    ...(network && network !== 'default' ? { networkMode: network } : {}),
    ...cacheFromOf(query.get('cachefrom')),
  };
}

/** `cachefrom`: a JSON array of image names. */
function cacheFromOf(text: string | null): { cacheFrom?: readonly string[] } {
  if (!text) return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new BerthError('invalid_argument', 'cachefrom must be a JSON array of image names');
  }
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) throw new BerthError('invalid_argument', 'cachefrom must be a JSON array of image names');
  const names = v.filter((x) => x !== '');
  return names.length > 0 ? { cacheFrom: names } : {};
}

export function buildRoutes(builder: BuildService | undefined): Route[] {
  return [
    [
      'POST',
      /^\/build$/,
      async ({ req, res, query, signal }) => {
        if (!builder) throw notYet('docker build on this engine', 6);
        if (query.get('remote')) throw new BerthError('invalid_argument', 'building from a remote context (git or URL) is not supported; send the context');
        if (query.get('version') === '2') throw new BerthError('invalid_argument', 'BuildKit is not supported by Berth; build with DOCKER_BUILDKIT=0 (the classic builder)');
        const options = buildOptionsFromQuery(query);
        const quiet = truthy(query.get('q'));
        res.writeHead(200, { 'content-type': 'application/json' });
        const write = (v: unknown): void => void res.write(`${JSON.stringify(v)}\r\n`);
        try {
          const result = await builder.buildFromTar(req, options, { signal, onProgress: (p) => quiet || write({ stream: p.stream }) });
          write({ aux: { ID: result.id } });
          // Quiet builds print the id alone, which the daemon sends as the one stream line.
          if (quiet) write({ stream: `${result.id}\n` });
        } catch (err) {
          const e = toBerthError(err);
          const exitCode = typeof e.details['exitCode'] === 'number' ? e.details['exitCode'] : 1;
          write({ errorDetail: { code: exitCode, message: e.message }, error: e.message });
        }
        res.end();
      },
    ],
  ];
}
