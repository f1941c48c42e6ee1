/**
 * The install order of features (containers.dev features spec): `dependsOn`
 * must come first, `installsAfter` comes first when present,
 * `overrideFeatureInstallOrder` ranks what is otherwise free; ties keep the
 * configuration's order. A cycle is an error naming the features.
 */
import { BerthError } from '../../common/errors';
import { baseIdOf, type ResolvedFeature } from './resolve';

export function installOrder(features: readonly ResolvedFeature[], override: readonly string[] = []): ResolvedFeature[] {
  const byBase = new Map(features.map((f) => [f.baseId, f]));
  const before = new Map<string, Set<string>>();
  for (const f of features) {
    const deps = new Set<string>();
    for (const d of Object.keys(f.json.dependsOn ?? {})) deps.add(baseIdOf(d));
    for (const d of f.json.installsAfter ?? []) if (byBase.has(baseIdOf(d))) deps.add(baseIdOf(d));
    before.set(f.baseId, deps);
  }
  const rank = (f: ResolvedFeature): number => {
    const i = override.map(baseIdOf).indexOf(f.baseId);
    return i < 0 ? override.length : i;
  };
  const done = new Set<string>();
  const out: ResolvedFeature[] = [];
  while (out.length < features.length) {
    const ready = features.filter((f) => !done.has(f.baseId) && [...(before.get(f.baseId) ?? [])].every((d) => done.has(d) || !byBase.has(d)));
    if (ready.length === 0) {
      const stuck = features.filter((f) => !done.has(f.baseId)).map((f) => f.userId);
      throw new BerthError('invalid_argument', `features depend on each other in a cycle: ${stuck.join(', ')}`);
    }
    const next = [...ready].sort((a, b) => rank(a) - rank(b) || features.indexOf(a) - features.indexOf(b))[0] as ResolvedFeature;
    done.add(next.baseId);
    out.push(next);
  }
  return out;
}
