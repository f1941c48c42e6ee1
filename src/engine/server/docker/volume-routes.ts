/**
 * The Docker Engine API's volume endpoints (`docker volume create/ls/
 * inspect/rm/prune`), translated to the volume service.
 */
import type { VolumeCreateRequest, VolumeRecord } from '../../../api/types/volumes';
import { BerthError } from '../../../common/errors';
import { parseFilterJson, volumeListFilters } from '../../volumes/filters';
import type { VolumeService } from '../services';
import type { Route } from './docker-server';
import { send } from './respond';

const truthy = (v: string | null | undefined): boolean => v === '1' || v === 'true';
const orNull = (m: Readonly<Record<string, string>>): Readonly<Record<string, string>> | null => (Object.keys(m).length > 0 ? m : null);

export function dockerVolume(v: VolumeRecord): Record<string, unknown> {
  return {
    Name: v.name,
    Driver: v.driver,
    Mountpoint: v.mountpoint,
    CreatedAt: v.createdAt.replace(/\.\d+Z$/, 'Z'),
    Labels: orNull(v.labels),
    Options: orNull(v.options),
    Scope: 'local',
  };
}

interface DockerVolumeCreate {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

function createRequest(body: unknown): VolumeCreateRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BerthError('invalid_argument', 'the request body must be a JSON object');
  const b = body as DockerVolumeCreate;
  return {
    ...(b.Name ? { name: b.Name } : {}),
    ...(b.Driver ? { driver: b.Driver } : {}),
    ...(b.Labels ? { labels: b.Labels } : {}),
    ...(b.DriverOpts && Object.keys(b.DriverOpts).length > 0 ? { options: b.DriverOpts } : {}),
  };
}

export function volumeRoutes(volumes: VolumeService): Route[] {
  return [
    ['GET', /^\/volumes$/, async ({ res, query }) => send(res, 200, { Volumes: (await volumes.list(volumeListFilters(query.get('filters')))).map(dockerVolume), Warnings: [] })],
    ['POST', /^\/volumes\/create$/, async ({ res, body }) => send(res, 201, dockerVolume(await volumes.create(createRequest(await body()))))],
    [
      'POST',
      /^\/volumes\/prune$/,
      async ({ res, query }) => {
        const f = parseFilterJson(query.get('filters'), ['all', 'label', 'label!']);
        const r = await volumes.prune({ all: truthy(f['all']?.at(-1)), ...(f['label'] ? { label: f['label'] } : {}), ...(f['label!'] ? { labelNot: f['label!'] } : {}) });
        send(res, 200, { VolumesDeleted: r.deleted, SpaceReclaimed: r.spaceReclaimed });
      },
    ],
    ['GET', /^\/volumes\/([^/]+)$/, async ({ res, params }) => send(res, 200, dockerVolume(await volumes.inspect(params[0] ?? '')))],
    [
      'DELETE',
      /^\/volumes\/([^/]+)$/,
      async ({ res, params, query }) => {
        await volumes.remove(params[0] ?? '', { force: truthy(query.get('force')) });
        send(res, 204);
      },
    ],
  ];
}
