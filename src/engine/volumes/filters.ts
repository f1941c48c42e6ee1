/** Volume list filters (Docker's: name, label, driver, dangling). */
import type { VolumeListFilters, VolumeRecord } from '../../api/types/volumes';
import { BerthError } from '../../common/errors';

/** Every "key" or "key=value" in `wanted` is among `labels`. */
export function matchesLabels(labels: Readonly<Record<string, string>>, wanted: readonly string[]): boolean {
  return wanted.every((l) => {
    const eq = l.indexOf('=');
    const key = eq < 0 ? l : l.slice(0, eq);
    const have = labels[key];
    return have !== undefined && (eq < 0 || have === l.slice(eq + 1));
  });
}

export function volumeMatches(v: VolumeRecord, f: VolumeListFilters): boolean {
  if (f.name?.length && !f.name.some((n) => v.name.includes(n))) return false;
  if (f.driver?.length && !f.driver.includes(v.driver)) return false;
  if (f.dangling !== undefined && f.dangling !== ((v.usedBy ?? []).length === 0)) return false;
  return matchesLabels(v.labels, f.label ?? []);
}

const bool = (key: string, values: readonly string[]): boolean => {
  const v = values.at(-1)?.toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new BerthError('invalid_argument', `invalid filter '${key}=${values.at(-1) ?? ''}'`);
};

/** Docker's filters JSON ({"label":["a=b"]} or {"label":{"a=b":true}}) into a map of string lists. */
export function parseFilterJson(text: string | null | undefined, allowed: readonly string[]): Record<string, string[]> {
  if (!text) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new BerthError('invalid_argument', `filters must be JSON (got ${text})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new BerthError('invalid_argument', 'filters must be a JSON object');
  const out: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (!allowed.includes(key)) throw new BerthError('invalid_argument', `invalid filter '${key}'`);
    out[key] = (Array.isArray(value) ? value : typeof value === 'object' && value !== null ? Object.keys(value) : [value]).map(String);
  }
  return out;
}

export function volumeListFilters(text: string | null | undefined): VolumeListFilters {
  const f = parseFilterJson(text, ['name', 'label', 'driver', 'dangling']);
  return {
    ...(f['name'] ? { name: f['name'] } : {}),
    ...(f['label'] ? { label: f['label'] } : {}),
    ...(f['driver'] ? { driver: f['driver'] } : {}),
    ...(f['dangling'] ? { dangling: bool('dangling', f['dangling']) } : {}),
  };
}
