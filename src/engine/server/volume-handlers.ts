/** Native API handlers for volumes: translation to the volume service only. */
import type { VolumeCreateRequest, VolumePruneFilters } from '../../api/types/volumes';
import { BerthError } from '../../common/errors';
import { volumeListFilters } from '../volumes/filters';
import type { Handlers } from './router';
import type { VolumeService } from './services';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function stringMap(v: unknown, what: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v) || Object.values(v).some((x) => typeof x !== 'string')) throw new BerthError('invalid_argument', `${what} must be an object of strings`);
  return v as Record<string, string>;
}

function createRequest(body: unknown): VolumeCreateRequest {
  if (body === undefined || body === null) return {};
  if (!isObject(body)) throw new BerthError('invalid_argument', 'a volume create request must be a JSON object');
  const { name, driver } = body;
  if (name !== undefined && typeof name !== 'string') throw new BerthError('invalid_argument', 'name must be a string');
  if (driver !== undefined && typeof driver !== 'string') throw new BerthError('invalid_argument', 'driver must be a string');
  const labels = stringMap(body['labels'], 'labels');
  const options = stringMap(body['options'], 'options');
  return { ...(name ? { name } : {}), ...(driver ? { driver } : {}), ...(labels ? { labels } : {}), ...(options ? { options } : {}) };
}

function pruneFilters(body: unknown): VolumePruneFilters {
  if (body === undefined || body === null) return {};
  if (!isObject(body)) throw new BerthError('invalid_argument', 'prune filters must be a JSON object');
  const list = (key: string): string[] | undefined => {
    const v = body[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new BerthError('invalid_argument', `${key} must be an array of strings`);
    return v as string[];
  };
  const label = list('label');
  const labelNot = list('labelNot');
  return { all: body['all'] === true, ...(label ? { label } : {}), ...(labelNot ? { labelNot } : {}) };
}

export function volumeHandlers(volumes: VolumeService): Handlers {
  return {
    volumeCreate: ({ body }) => volumes.create(createRequest(body)),
    volumeList: ({ query }) => volumes.list(volumeListFilters(query.filters)),
    volumeInspect: ({ params }) => volumes.inspect(params.name),
    volumeRemove: async ({ params, query }) => {
      await volumes.remove(params.name, { force: query.force === 'true' || query.force === '1' });
      return { ok: true };
    },
    volumePrune: ({ body }) => volumes.prune(pruneFilters(body)),
  };
}
