/**
 * The image store's records and interface. Images are content-addressed:
 * the image id is the digest of its config blob.
 */
import type { Readable, Writable } from 'node:stream';
import type { Digest, ImageConfig, ImageRuntimeConfig, Platform } from './oci';

export interface LayerRecord {
  /** Digest of the (possibly compressed) blob in the content store. */
  readonly digest: Digest;
  readonly mediaType: string;
  readonly size: number;
  /** Digest of the uncompressed tar. */
  readonly diffId: Digest;
  /** ChainID of the image's layers up to and including this one (the snapshot's name). */
  readonly chainId: Digest;
}

export interface ImageRecord {
  /** Digest of the config blob. */
  readonly id: Digest;
  /** e.g. ["127.0.0.1:5000/busybox:latest"], normalized (docker.io/library/ expanded). */
  readonly repoTags: readonly string[];
  /** e.g. ["127.0.0.1:5000/busybox@sha256:..."] */
  readonly repoDigests: readonly string[];
  /** Digest of the platform manifest that was stored. */
  readonly manifestDigest: Digest;
  readonly config: ImageConfig;
  readonly layers: readonly LayerRecord[];
  readonly platform: Platform;
  /** Total size of the layer blobs in bytes. */
  readonly size: number;
  /** When the image was first stored (ISO 8601). */
  readonly storedAt: string;
}

export interface PullProgress {
  /** Docker-style: "Pulling fs layer", "Downloading", "Verifying Checksum", "Download complete", "Extracting", "Pull complete", "Already exists". */
  readonly status: string;
  /** Short layer id (12 hex chars) or the reference. */
  readonly id?: string;
  readonly current?: number;
  readonly total?: number;
}

export interface PullOptions {
  readonly platform?: Platform;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: PullProgress) => void;
}

export interface ImageStore {
  /** Pulls, verifies, stores and unpacks an image; resolves with its record. */
  pull(reference: string, options?: PullOptions): Promise<ImageRecord>;
  push(reference: string, options?: { signal?: AbortSignal; onProgress?: (p: PullProgress) => void }): Promise<Digest>;
  tag(source: string, target: string): Promise<void>;
  /** By id, id prefix (>= 12 hex chars), tag or digest reference. not_found otherwise. */
  get(nameOrId: string): Promise<ImageRecord>;
  list(): Promise<readonly ImageRecord[]>;
  /** Removes a tag, or the image when its last tag goes (or with force). */
  remove(nameOrId: string, options?: { force?: boolean }): Promise<{ untagged: string[]; deleted: Digest[] }>;
  /** Untagged images (with `all`, every image) that no container uses; `label` narrows. */
  prune(options?: { all?: boolean; label?: readonly string[] }): Promise<{ untagged: string[]; deleted: Digest[]; spaceReclaimed: number }>;
  /** A rootfs tarball as a one-layer image, tagged `reference` if given. */
  importImage(source: Readable, options?: { reference?: string; config?: ImageRuntimeConfig; message?: string; signal?: AbortSignal }): Promise<ImageRecord>;
  /** The images named, as one tar (docker save and OCI layout). */
  save(names: readonly string[], out: Writable, options?: { signal?: AbortSignal }): Promise<void>;
  /** The images of a docker save or OCI layout tar, stored and tagged. */
  load(input: Readable, options?: { signal?: AbortSignal; onProgress?: (p: PullProgress) => void }): Promise<ImageRecord[]>;
}
