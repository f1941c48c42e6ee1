/**
 * POST /gw/up: `berth up` run on the gateway's host, as the user, for a
 * workspace folder there or a repository cloned there into a volume. The
 * request is checked here, once.
 */
import { BerthError } from '../common/errors';

export interface GatewayUpRequest {
  readonly workspaceFolder?: string;
  readonly configFile?: string;
  readonly clone?: { readonly url: string; readonly branch?: string; readonly volume?: string };
  readonly idLabels?: Readonly<Record<string, string>>;
  readonly removeExistingContainer?: boolean;
  readonly skipPostCreate?: boolean;
  readonly skipPostAttach?: boolean;
  readonly skipNonBlocking?: boolean;
  readonly prebuild?: boolean;
  readonly buildNoCache?: boolean;
  readonly mounts?: readonly string[];
  readonly remoteEnv?: readonly string[];
  readonly additionalFeatures?: Readonly<Record<string, unknown>>;
  readonly dotfiles?: { readonly repository: string; readonly targetPath?: string; readonly installCommand?: string };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseUpRequest(body: unknown): GatewayUpRequest {
  if (!isObject(body)) throw new BerthError('invalid_argument', 'an up request must be a JSON object');
  const str = (v: unknown, name: string): string | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') throw new BerthError('invalid_argument', `${name} must be a non-empty string`);
    return v;
  };
  const strings = (v: unknown, name: string): string[] | undefined => {
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new BerthError('invalid_argument', `${name} must be an array of strings`);
    return v as string[];
  };
  const out: Record<string, unknown> = {};
  for (const key of ['workspaceFolder', 'configFile'] as const) {
    const v = str(body[key], key);
    if (v !== undefined) {
      if (!v.startsWith('/')) throw new BerthError('invalid_argument', `${key} must be an absolute path on the gateway's host`);
      out[key] = v;
    }
  }
  for (const key of ['removeExistingContainer', 'skipPostCreate', 'skipPostAttach', 'skipNonBlocking', 'prebuild', 'buildNoCache'] as const) {
    if (body[key] !== undefined) out[key] = body[key] === true;
  }
  for (const key of ['mounts', 'remoteEnv'] as const) {
    const v = strings(body[key], key);
    if (v) out[key] = v;
  }
  if (body['idLabels'] !== undefined) {
    if (!isObject(body['idLabels']) || Object.values(body['idLabels']).some((v) => typeof v !== 'string')) throw new BerthError('invalid_argument', 'idLabels must be an object of strings');
    out['idLabels'] = body['idLabels'];
  }
  if (body['additionalFeatures'] !== undefined) {
    if (!isObject(body['additionalFeatures'])) throw new BerthError('invalid_argument', 'additionalFeatures must be an object');
    out['additionalFeatures'] = body['additionalFeatures'];
  }
  if (body['clone'] !== undefined) {
    const c = body['clone'];
    if (!isObject(c)) throw new BerthError('invalid_argument', 'clone must be an object');
    const url = str(c['url'], 'clone.url');
    if (!url) throw new BerthError('invalid_argument', 'clone needs a url');
    const branch = str(c['branch'], 'clone.branch');
    const volume = str(c['volume'], 'clone.volume');
    out['clone'] = { url, ...(branch ? { branch } : {}), ...(volume ? { volume } : {}) };
  }
  if (body['dotfiles'] !== undefined) {
    const d = body['dotfiles'];
    if (!isObject(d)) throw new BerthError('invalid_argument', 'dotfiles must be an object');
    const repository = str(d['repository'], 'dotfiles.repository');
    if (!repository) throw new BerthError('invalid_argument', 'dotfiles needs a repository');
    const targetPath = str(d['targetPath'], 'dotfiles.targetPath');
    const installCommand = str(d['installCommand'], 'dotfiles.installCommand');
    out['dotfiles'] = { repository, ...(targetPath ? { targetPath } : {}), ...(installCommand ? { installCommand } : {}) };
  }
  if (out['clone'] && out['workspaceFolder']) throw new BerthError('invalid_argument', 'clone and workspaceFolder exclude each other');
  if (!out['clone'] && !out['workspaceFolder']) throw new BerthError('invalid_argument', 'an up request needs a workspaceFolder or a clone');
  return Object.freeze(out);
}
