/**
 * The engine's composition root: builds the services from the data root and
 * hands them to the API servers. Disposal is in reverse order and leaves
 * containers running.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../common/log';
import type { Digest } from '../api/types/oci';
import { EventBus } from './containers/events';
import { ContainerManager } from './containers/manager';
import { createRuntime } from './oci/runtime';
import { ContentStore } from './content/store';
import { LocalImageStore } from './images/store';
import { RegistryClient } from './registry/client';
import { OverlaySnapshotter } from './snapshots/overlay';
import { LayerUnpacker } from './snapshots/unpacker';
import type { EngineServices } from './server/services';
import { ContainerMounts } from './volumes/container-mounts';
import { VolumeStore } from './volumes/store';

const TINI = '/usr/bin/tini-static';

export interface EngineOptions {
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly runtime: 'runc' | 'crun';
  readonly logger: Logger;
  /** Path of the berth-shim binary (built beside the bundles in dist/). */
  readonly shimBinary: string;
}

export interface Engine extends EngineServices {
  readonly snapshotter: OverlaySnapshotter;
  counts(): Promise<{ containers: { total: number; running: number }; images: number }>;
  /** Stops watching containers (they keep running). */
  dispose(): void;
}

export async function createEngine(options: EngineOptions): Promise<Engine> {
  const { dataRoot, logger } = options;
  await mkdir(dataRoot, { recursive: true, mode: 0o711 });
  await mkdir(options.execRoot, { recursive: true, mode: 0o711 });
  const events = new EventBus();
  const content = new ContentStore(path.join(dataRoot, 'content'));
  const snapshotter = new OverlaySnapshotter(path.join(dataRoot, 'snapshots', 'overlay'));
  await mkdir(snapshotter.root, { recursive: true });
  const unpacker = new LayerUnpacker(snapshotter, logger.child({ component: 'unpacker' }));
  const stale = await unpacker.cleanupStale();
  if (stale > 0) logger.info('removed half-unpacked layers left by an earlier run', { count: stale });
  // The image store asks the containers whether an image is in use; they are made right after it.
  const holder: { containers?: ContainerManager } = {};
  // Which containers use a volume is read from their records, never stored apart.
  const volumes = new VolumeStore({
    root: path.join(dataRoot, 'volumes'),
    logger: logger.child({ component: 'volumes' }),
    usage: async () => {
      const used = new Map<string, string[]>();
      for (const c of (await holder.containers?.list({ all: true })) ?? []) {
        for (const m of c.mounts ?? []) if (m.type === 'volume' && m.name) used.set(m.name, [...(used.get(m.name) ?? []), c.id]);
      }
      return used;
    },
  });
  await volumes.init();
  const images = new LocalImageStore({
    root: path.join(dataRoot, 'images'),
    content,
    registry: new RegistryClient({ logger: logger.child({ component: 'registry' }) }),
    unpacker,
    logger: logger.child({ component: 'images' }),
    isInUse: async (id: Digest) => (await holder.containers?.list({ all: true }))?.some((c) => c.imageId === id) ?? false,
  });
  const containers = new ContainerManager({
    root: path.join(dataRoot, 'containers'),
    execRoot: options.execRoot,
    runtime: await createRuntime({ name: options.runtime, root: path.join(options.execRoot, options.runtime) }),
    shim: options.shimBinary,
    snapshotter,
    resolveImage: async (ref) => {
      const image = await images.get(ref);
      return { id: image.id, snapshotParent: image.layers.at(-1)?.chainId, config: image.config.config ?? {} };
    },
    events,
    logger: logger.child({ component: 'containers' }),
    mounts: new ContainerMounts(volumes, logger.child({ component: 'mounts' })),
    // Debian's static tini reaps zombies as PID 1 for `init: true` containers.
    ...(existsSync(TINI) ? { initBinary: TINI } : {}),
  });
  holder.containers = containers;
  const summary = await containers.reconcile();
  logger.info('containers reconciled', { ...summary });
  const manager = containers;
  return {
    images,
    containers: manager,
    events,
    volumes,
    snapshotter,
    dispose: () => manager.dispose(),
    counts: async () => {
      const all = await manager.list({ all: true });
      return { containers: { total: all.length, running: all.filter((c) => c.state.status === 'running').length }, images: (await images.list()).length };
    },
  };
}
