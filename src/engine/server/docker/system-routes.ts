/**
 * `docker system df`: images (with shared layers and the containers using
 * them), containers (their writable layer), volumes (size and users) and an
 * empty build cache, from the engine's services.
 */
import { directorySize } from '../../disk-usage';
import type { EngineServices } from '../services';
import type { Route } from './docker-server';
import { send } from './respond';
import { containerSummary, imageSummary } from './translate';
import { dockerVolume } from './volume-routes';

export function systemRoutes(services: EngineServices): Route[] {
  const { images, containers, volumes } = services;
  return [
    [
      'GET',
      /^\/system\/df$/,
      async ({ res, signal }) => {
        const [allImages, allContainers, allVolumes] = await Promise.all([images.list(), containers.list({ all: true }), volumes.list()]);
        const layerUsers = new Map<string, number>();
        const layerSize = new Map<string, number>();
        for (const i of allImages) {
          for (const l of i.layers) {
            layerUsers.set(l.chainId, (layerUsers.get(l.chainId) ?? 0) + 1);
            layerSize.set(l.chainId, l.size);
          }
        }
        const shared = (i: (typeof allImages)[number]): number => i.layers.filter((l) => (layerUsers.get(l.chainId) ?? 0) > 1).reduce((n, l) => n + l.size, 0);
        send(res, 200, {
          LayersSize: [...layerSize.values()].reduce((a, b) => a + b, 0),
          Images: allImages.map((i) => ({ ...imageSummary(i), SharedSize: shared(i), Containers: allContainers.filter((c) => c.imageId === i.id).length })),
          Containers: await Promise.all(
            allContainers.map(async (c) => {
              const sizeRw = await containers.sizeRw(c.id, { signal });
              return { ...containerSummary(c), ...(sizeRw === undefined ? {} : { SizeRw: sizeRw }), SizeRootFs: (allImages.find((i) => i.id === c.imageId)?.size ?? 0) + (sizeRw ?? 0) };
            }),
          ),
          Volumes: await Promise.all(
            allVolumes.map(async (v) => ({ ...dockerVolume(v), UsageData: { Size: await directorySize(v.mountpoint, { signal }), RefCount: v.usedBy?.length ?? 0 } })),
          ),
          BuildCache: [],
        });
      },
    ],
  ];
}
