/**
 * --cache-from: images (pulled when missing) that stand in for steps, as in
 * Docker's classic builder. An image satisfies a step when its history and
 * layers begin with the build's state so far (same entries, same diff ids)
 * and its next history entry is the one the step would write (created_by,
 * content comment, layer or not). The state after the step then takes that
 * entry (its time too) and, for a layer, the image's layer; the runtime
 * config is the one the step computes, so later steps key the same way.
 */
import type { ImageRecord } from '../../api/types/images';
import type { HistoryEntry } from '../../api/types/oci';
import { type BuildState, withConfig, withLayer } from './build-state';
import type { StepOutcome } from './step-outcome';

const sameEntry = (a: HistoryEntry, b: HistoryEntry | undefined): boolean =>
  b !== undefined && a.created_by === b.created_by && (a.empty_layer === true) === (b.empty_layer === true) && (a.comment ?? '') === (b.comment ?? '');

export class CacheFromImages {
  constructor(private readonly images: readonly ImageRecord[]) {}

  get size(): number {
    return this.images.length;
  }

  /** The state after the step, from the first image that has it; undefined when none does. */
  match(state: BuildState, outcomes: readonly StepOutcome[]): BuildState | undefined {
    if (outcomes.length === 0) return undefined;
    const history = state.config.history ?? [];
    const diffIds = state.config.rootfs.diff_ids;
    for (const image of this.images) {
      const theirs = image.config.history ?? [];
      const theirDiffs = image.config.rootfs.diff_ids;
      const next = theirs[history.length];
      if (!next || theirDiffs.length < diffIds.length) continue;
      if (!history.every((h, i) => sameEntry(h, theirs[i])) || !diffIds.every((d, i) => d === theirDiffs[i])) continue;
      const empty = next.empty_layer === true;
      const outcome = outcomes.find((o) => o.createdBy === next.created_by && (o.comment ?? '') === (next.comment ?? '') && (o.layer === 'either' || o.layer === !empty));
      if (!outcome) continue;
      const extra = { ...(next.created ? { created: next.created } : {}), ...(next.comment ? { comment: next.comment } : {}) };
      if (empty) return withConfig(state, outcome.config, outcome.createdBy, extra);
      const layer = image.layers[diffIds.length];
      if (!layer || layer.diffId !== theirDiffs[diffIds.length]) continue;
      return withLayer(state, layer, outcome.createdBy, outcome.config, extra);
    }
    return undefined;
  }
}
