/**
 * The Docker Engine API's network endpoints (`docker network create/ls/
 * inspect/rm/prune/connect/disconnect`), translated to the network and
 * container services. "host" and "none" are listed as Docker lists them.
 */
import type { NetworkCreateRequest } from '../../../api/types/networks';
import { BerthError } from '../../../common/errors';
import { parseFilterJson } from '../../volumes/filters';
import type { ContainerService, NetworkService } from '../services';
import type { Route } from './docker-server';
import { send } from './respond';
import { dockerNetwork, pseudoNetwork } from './network-translate';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

interface DockerNetworkCreate {
  Name?: string;
  Driver?: string;
  Internal?: boolean;
  Labels?: Record<string, string> | null;
  IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] | null } | null;
}

function createRequest(body: unknown): NetworkCreateRequest {
  if (!isObject(body)) throw new BerthError('invalid_argument', 'the request body must be a JSON object');
  const b = body as DockerNetworkCreate;
  if (!b.Name) throw new BerthError('invalid_argument', 'Name is required');
  const config = b.IPAM?.Config?.[0];
  return {
    name: b.Name,
    ...(b.Driver ? { driver: b.Driver } : {}),
    ...(b.Internal ? { internal: true } : {}),
    ...(b.Labels ? { labels: b.Labels } : {}),
    ...(config?.Subnet ? { subnet: config.Subnet } : {}),
    ...(config?.Gateway ? { gateway: config.Gateway } : {}),
  };
}

const PSEUDO = ['host', 'none'] as const;

export function networkRoutes(networks: NetworkService, containers: ContainerService): Route[] {
  const all = (): ReturnType<ContainerService['list']> => containers.list({ all: true });
  const inspect = async (idOrName: string): Promise<Record<string, unknown>> => {
    const pseudo = PSEUDO.find((p) => p === idOrName);
    if (pseudo) return pseudoNetwork(pseudo);
    return dockerNetwork(await networks.inspectNetwork(idOrName), await all());
  };
  return [
    [
      'GET',
      /^\/networks$/,
      async ({ res, query }) => {
        const f = parseFilterJson(query.get('filters'), ['name', 'id', 'driver', 'label', 'type', 'scope', 'dangling']);
        const records = await all();
        const list = [...(await networks.listNetworks()).map((n) => dockerNetwork(n, records)), ...PSEUDO.map(pseudoNetwork)];
        const str = (v: unknown): string => (typeof v === 'string' ? v : '');
        const keep = list.filter(
          (n) =>
            (!f['name'] || f['name'].some((x) => str(n['Name']).includes(x))) &&
            (!f['id'] || f['id'].some((x) => str(n['Id']).startsWith(x))) &&
            (!f['driver'] || f['driver'].includes(str(n['Driver']))) &&
            (!f['label'] ||
              f['label'].every((l) => {
                const [k = '', v] = l.split('=');
                const labels = (n['Labels'] ?? {}) as Record<string, string>;
                return k in labels && (v === undefined || labels[k] === v);
              })),
        );
        send(res, 200, keep);
      },
    ],
    [
      'POST',
      /^\/networks\/create$/,
      async ({ res, body }) => {
        const n = await networks.createNetwork(createRequest(await body()));
        send(res, 201, { Id: n.id, Warning: '' });
      },
    ],
    [
      'POST',
      /^\/networks\/prune$/,
      async ({ res }) => {
        const deleted: string[] = [];
        for (const n of await networks.listNetworks()) {
          if (n.name === 'bridge' || (n.containers?.length ?? 0) > 0) continue;
          await networks.removeNetwork(n.id);
          deleted.push(n.name);
        }
        send(res, 200, { NetworksDeleted: deleted });
      },
    ],
    ['GET', /^\/networks\/([^/]+)$/, async ({ res, params }) => send(res, 200, await inspect(params[0] ?? ''))],
    [
      'DELETE',
      /^\/networks\/([^/]+)$/,
      async ({ res, params }) => {
        if (PSEUDO.some((p) => p === params[0])) throw new BerthError('failed_precondition', `${params[0] ?? ''} is a pre-defined network and cannot be removed`);
        await networks.removeNetwork(params[0] ?? '');
        send(res, 204);
      },
    ],
    [
      'POST',
      /^\/networks\/([^/]+)\/connect$/,
      async ({ res, params, body, signal }) => {
        const b = await body();
        if (!isObject(b) || typeof b['Container'] !== 'string') throw new BerthError('invalid_argument', 'Container is required');
        const endpoint = isObject(b['EndpointConfig']) ? b['EndpointConfig'] : {};
        const aliases = Array.isArray(endpoint['Aliases']) ? endpoint['Aliases'].filter((a): a is string => typeof a === 'string') : [];
        await containers.connect(b['Container'], params[0] ?? '', { aliases, signal });
        send(res, 200);
      },
    ],
    [
      'POST',
      /^\/networks\/([^/]+)\/disconnect$/,
      async ({ res, params, body }) => {
        const b = await body();
        if (!isObject(b) || typeof b['Container'] !== 'string') throw new BerthError('invalid_argument', 'Container is required');
        await containers.disconnect(b['Container'], params[0] ?? '');
        send(res, 200);
      },
    ],
  ];
}
