/**
 * A build's state between steps: the image config so far (runtime config,
 * diff ids, history) and the layers. Each step turns one state into the
 * next; a state's id (a digest of all of it) keys the cache of the step after.
 */
import { createHash } from 'node:crypto';
import type { Digest, HistoryEntry, ImageConfig, ImageRuntimeConfig } from '../../api/types/oci';
import type { ImageRecord, LayerRecord } from '../../api/types/images';
import { chainIds } from '../images/chain-id';
import { hostPlatform } from '../images/platform';

export interface BuildState {
  readonly config: ImageConfig;
  readonly layers: readonly LayerRecord[];
}

export function stateId(state: BuildState): string {
  return createHash('sha256').update(JSON.stringify(state)).digest('hex');
}

export function fromImage(image: ImageRecord): BuildState {
  return { config: image.config, layers: image.layers };
}

/** `FROM scratch`: no layers, an empty config for this host. */
export function scratchState(): BuildState {
  const p = hostPlatform();
  return { config: { architecture: p.architecture, os: p.os, ...(p.variant ? { variant: p.variant } : {}), config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [] }, layers: [] };
}

export const runtimeConfig = (s: BuildState): ImageRuntimeConfig => s.config.config ?? {};

/** The top layer's snapshot (its ChainID), absent for an image without layers. */
export const topChain = (s: BuildState): Digest | undefined => s.layers.at(-1)?.chainId;

function history(s: BuildState, entry: HistoryEntry): readonly HistoryEntry[] {
  return [...(s.config.history ?? []), entry];
}

/** What a step may say of its history entry beyond created_by: its time (default now), a comment. */
export interface EntryExtra {
  readonly created?: string;
  readonly comment?: string;
}

/** A step that changes the config only. */
export function withConfig(s: BuildState, config: ImageRuntimeConfig, createdBy: string, extra: EntryExtra = {}): BuildState {
  const created = extra.created ?? new Date().toISOString();
  const entry: HistoryEntry = { created, created_by: createdBy, ...(extra.comment ? { comment: extra.comment } : {}), empty_layer: true };
  return { layers: s.layers, config: { ...s.config, created, config, history: history(s, entry) } };
}

/** A step that adds a layer (and may change the config). */
export function withLayer(s: BuildState, layer: Omit<LayerRecord, 'chainId'>, createdBy: string, config = runtimeConfig(s), extra: EntryExtra = {}): BuildState {
  const created = extra.created ?? new Date().toISOString();
  const diffIds = [...s.config.rootfs.diff_ids, layer.diffId];
  const chainId = chainIds(diffIds).at(-1) as Digest;
  return {
    layers: [...s.layers, { ...layer, chainId }],
    config: { ...s.config, created, config, rootfs: { type: 'layers', diff_ids: diffIds }, history: history(s, { created, created_by: createdBy, ...(extra.comment ? { comment: extra.comment } : {}) }) },
  };
}
