/**
 * Merging several Compose files in order (`-f a.yml -f b.yml`), as the
 * Compose specification says: mappings merge key by key; `environment`,
 * `labels`, `depends_on`, `networks` and friends merge by key whatever
 * their syntax; `volumes` merge by target; `ports` and `expose` append;
 * `command`, `entrypoint` and other sequences are replaced.
 */

import { text } from './scalars';

type Raw = Record<string, unknown>;

const isMap = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `["A=1", "B"]` or `{A: 1}` to a mapping (a bare name maps to null). */
export function keyValues(v: unknown): Raw {
  if (isMap(v)) return { ...v };
  if (!Array.isArray(v)) return {};
  const out: Raw = {};
  for (const item of v) {
    const s = text(item);
    const eq = s.indexOf('=');
    out[eq < 0 ? s : s.slice(0, eq)] = eq < 0 ? null : s.slice(eq + 1);
  }
  return out;
}

/** `["a", "b"]` or `{a: {...}}` to a mapping of names. */
export function namedMap(v: unknown): Raw {
  if (isMap(v)) return { ...v };
  if (!Array.isArray(v)) return {};
  return Object.fromEntries(v.map((name) => [text(name), null]));
}

/** The container path of a volume entry (short "src:dst[:mode]" or long syntax). */
export function volumeTarget(v: unknown): string {
  if (isMap(v)) return text(v['target']);
  const parts = text(v).split(':');
  // "C:\x:/y" does not occur on Linux; "src:dst:mode" or "src:dst" or "dst".
  return parts.length === 1 ? (parts[0] ?? '') : (parts[1] ?? '');
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? (v as unknown[]) : v === undefined ? [] : [v]);

function mergeBy(base: unknown, over: unknown, key: (v: unknown) => string): unknown[] {
  const out = new Map<string, unknown>();
  for (const v of [...list(base), ...list(over)]) out.set(key(v), v);
  return [...out.values()];
}

function appendUnique(base: unknown, over: unknown): unknown[] {
  const out: unknown[] = [];
  const seen = new Set<string>();
  for (const v of [...list(base), ...list(over)]) {
    if (v === undefined) continue;
    const k = JSON.stringify(v);
    if (!seen.has(k)) out.push(v);
    seen.add(k);
  }
  return out;
}

function mergeDeep(base: unknown, over: unknown): unknown {
  if (isMap(base) && isMap(over)) {
    const out: Raw = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = k in base ? mergeDeep(base[k], v) : v;
    return out;
  }
  return over;
}

const BY_KEY = new Set(['environment', 'labels', 'annotations', 'sysctls', 'extra_hosts', 'build_args']);
const BY_NAME = new Set(['depends_on', 'networks']);
const APPEND = new Set(['ports', 'expose', 'external_links', 'dns', 'dns_search', 'tmpfs', 'cap_add', 'cap_drop', 'security_opt', 'env_file', 'profiles', 'devices']);

export function mergeService(base: Raw, over: Raw): Raw {
  const out: Raw = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = base[k];
    if (b === undefined) out[k] = v;
    else if (BY_KEY.has(k)) out[k] = { ...keyValues(b), ...keyValues(v) };
    else if (BY_NAME.has(k)) out[k] = mergeDeep(namedMap(b), namedMap(v));
    else if (k === 'volumes') out[k] = mergeBy(b, v, volumeTarget);
    else if (APPEND.has(k)) out[k] = appendUnique(b, v);
    else if (k === 'build' && isMap(b) && isMap(v)) out[k] = { ...b, ...v, ...(b['args'] || v['args'] ? { args: { ...keyValues(b['args']), ...keyValues(v['args']) } } : {}) };
    else if (k === 'build' && isMap(b)) out[k] = { ...b, context: v };
    else if (isMap(b) && isMap(v)) out[k] = mergeDeep(b, v);
    else out[k] = v;
  }
  return out;
}

/** Merges parsed files in order; later files win. */
export function mergeFiles(files: readonly Raw[]): Raw {
  let out: Raw = {};
  for (const file of files) {
    const merged: Raw = { ...out };
    for (const [k, v] of Object.entries(file)) {
      if (k === 'services' && isMap(v)) {
        const services: Raw = { ...(isMap(out['services']) ? out['services'] : {}) };
        for (const [name, svc] of Object.entries(v)) {
          const prev = services[name];
          services[name] = isMap(prev) && isMap(svc) ? mergeService(prev, svc) : (svc ?? {});
        }
        merged[k] = services;
      } else merged[k] = mergeDeep(out[k], v);
    }
    out = merged;
  }
  return out;
}
