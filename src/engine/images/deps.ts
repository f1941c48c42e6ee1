/** What the image store is built from: the content store, a registry client, an unpacker and a few callbacks. */
import type { Readable } from 'node:stream';
import type { Logger } from '../../common/log';
import type { EngineEvent } from '../../api/types/containers';
import type { Digest } from '../../api/types/oci';
import type { ContentStore } from '../content/store';
import type { RegistryClient } from '../registry/client';

export interface LayerToUnpack {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly diffId: Digest;
  readonly chainId: Digest;
}

/** Unpacks layers into snapshots named by ChainID (the snapshots' LayerUnpacker fits). */
export interface ImageUnpacker {
  ensureChain(
    layers: readonly LayerToUnpack[],
    openBlob: (digest: Digest) => Readable,
    options: { signal?: AbortSignal; onProgress?: (p: { id: string; status: string; current?: number; total?: number }) => void },
  ): Promise<void>;
}

export interface ImageStoreDeps {
  /** Where image records and the tags index live. */
  readonly root: string;
  readonly content: ContentStore;
  readonly registry: RegistryClient;
  readonly unpacker: ImageUnpacker;
  readonly logger: Logger;
  /** True while a container uses the image (removal is then refused unless forced). */
  readonly isInUse?: (id: Digest) => Promise<boolean>;
  /** Where image events (pull, push, tag, untag, delete, load, import, save) go. */
  readonly events?: { emit(event: Omit<EngineEvent, 'timeNano'>): void };
  /** Layers fetched at once (default 3). */
  readonly concurrency?: number;
}
