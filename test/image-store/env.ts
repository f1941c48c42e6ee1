/** An image store over a real content store, registry client and overlay unpacker, in a temp dir. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../src/common/log';
import { ContentStore } from '../../src/engine/content/store';
import { LocalImageStore } from '../../src/engine/images/store';
import type { Credentials } from '../../src/engine/registry/auth';
import { RegistryClient } from '../../src/engine/registry/client';
import { OverlaySnapshotter } from '../../src/engine/snapshots/overlay';
import { LayerUnpacker } from '../../src/engine/snapshots/unpacker';

export interface ImageStoreEnv extends AsyncDisposable {
  readonly root: string;
  readonly content: ContentStore;
  readonly registry: RegistryClient;
  readonly snapshotter: OverlaySnapshotter;
  readonly images: LocalImageStore;
  inUse: Set<string>;
  dispose(): Promise<void>;
}

export async function imageStoreEnv(options: { credentials?: (host: string) => Promise<Credentials | undefined> } = {}): Promise<ImageStoreEnv> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'berth-images-'));
  const logger = createLogger({ level: 'error', write: () => undefined });
  const content = new ContentStore(path.join(root, 'content'));
  const registry = new RegistryClient({ logger, ...(options.credentials ? { credentials: options.credentials } : {}) });
  const snapshotter = new OverlaySnapshotter(path.join(root, 'snapshots'));
  const unpacker = new LayerUnpacker(snapshotter, logger);
  const inUse = new Set<string>();
  const images = new LocalImageStore({ root: path.join(root, 'images'), content, registry, unpacker, logger, isInUse: (id) => Promise.resolve(inUse.has(id)) });
  const dispose = (): Promise<void> => rm(root, { recursive: true, force: true });
  return { root, content, registry, snapshotter, images, inUse, dispose, [Symbol.asyncDispose]: dispose };
}
