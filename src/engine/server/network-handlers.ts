/** Native API handlers for networks: validation and translation to the network and container services only. */
import type { NetworkCreateRequest } from '../../api/types/networks';
import { BerthError } from '../../common/errors';
import type { Handlers } from './router';
import type { ContainerService, NetworkService } from './services';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v !== undefined && typeof v !== 'string') throw new BerthError('invalid_argument', `${key} must be a string`);
  return v;
}

function createRequest(body: unknown): NetworkCreateRequest {
  if (!isObject(body)) throw new BerthError('invalid_argument', 'a network create request must be a JSON object');
  const name = optionalString(body, 'name');
  if (!name) throw new BerthError('invalid_argument', 'name is required');
  const labels = body['labels'];
  if (labels !== undefined && (!isObject(labels) || Object.values(labels).some((x) => typeof x !== 'string'))) throw new BerthError('invalid_argument', 'labels must be an object of strings');
  const driver = optionalString(body, 'driver');
  const subnet = optionalString(body, 'subnet');
  const gateway = optionalString(body, 'gateway');
  return {
    name,
    ...(driver ? { driver } : {}),
    ...(subnet ? { subnet } : {}),
    ...(gateway ? { gateway } : {}),
    ...(body['internal'] === true ? { internal: true } : {}),
    ...(labels ? { labels: labels as Record<string, string> } : {}),
  };
}

function containerOf(body: unknown): { container: string; aliases: string[] } {
  if (!isObject(body) || typeof body['container'] !== 'string') throw new BerthError('invalid_argument', 'container is required');
  const aliases = body['aliases'];
  if (aliases !== undefined && (!Array.isArray(aliases) || aliases.some((a) => typeof a !== 'string'))) throw new BerthError('invalid_argument', 'aliases must be an array of strings');
  return { container: body['container'], aliases: (aliases as string[] | undefined) ?? [] };
}

export function networkHandlers(networks: NetworkService, containers: ContainerService): Handlers {
  return {
    networkCreate: ({ body }) => networks.createNetwork(createRequest(body)),
    networkList: () => networks.listNetworks(),
    networkInspect: ({ params }) => networks.inspectNetwork(params.name),
    networkRemove: async ({ params }) => {
      await networks.removeNetwork(params.name);
      return { ok: true };
    },
    networkConnect: async ({ params, body, signal }) => {
      const { container, aliases } = containerOf(body);
      await containers.connect(container, params.name, { aliases, signal });
      return { ok: true };
    },
    networkDisconnect: async ({ params, body }) => {
      await containers.disconnect(containerOf(body).container, params.name);
      return { ok: true };
    },
  };
}
