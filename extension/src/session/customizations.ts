/**
 * `customizations.vscode` of a (merged) configuration: settings to apply
 * and extensions to install. The merged configuration (image metadata and
 * devcontainer.json) holds them as lists, one entry per source, later
 * entries winning; devcontainer.json alone holds one object. Pure.
 */
export interface VscodeCustomizations {
  readonly settings: Readonly<Record<string, unknown>>;
  readonly extensions: readonly string[];
}

function vscodeParts(customizations: unknown): unknown[] {
  // devcontainer.json: {vscode: {...}}; a merged configuration: {vscode: [{...}, ...]}; either, in a list.
  const list = Array.isArray(customizations) ? customizations : [customizations];
  return list
    .flatMap((c) => {
      const v = typeof c === 'object' && c !== null ? (c as Record<string, unknown>)['vscode'] : undefined;
      return Array.isArray(v) ? (v as unknown[]) : [v];
    })
    .filter((v) => typeof v === 'object' && v !== null);
}

export function vscodeCustomizations(config: Readonly<Record<string, unknown>>): VscodeCustomizations {
  const settings: Record<string, unknown> = {};
  const extensions: string[] = [];
  for (const part of vscodeParts(config['customizations'])) {
    const p = part as Record<string, unknown>;
    const s = p['settings'];
    if (typeof s === 'object' && s !== null && !Array.isArray(s)) Object.assign(settings, s);
    const e = p['extensions'];
    if (Array.isArray(e)) for (const id of e) if (typeof id === 'string') extensions.push(id);
  }
  // "-publisher.name" removes an extension an earlier source asked for.
  const removed = new Set(extensions.filter((e) => e.startsWith('-')).map((e) => e.slice(1).toLowerCase()));
  const wanted = [...new Map(extensions.filter((e) => !e.startsWith('-') && !removed.has(e.toLowerCase())).map((e) => [e.toLowerCase(), e])).values()];
  return { settings, extensions: wanted };
}

/** Settings to write, and what to restore later: the values they replace. */
export function settingsPlan(
  wanted: Readonly<Record<string, unknown>>,
  current: (key: string) => unknown,
): { readonly apply: Record<string, unknown>; readonly previous: Record<string, unknown> } {
  const apply: Record<string, unknown> = {};
  const previous: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(wanted)) {
    const now = current(key);
    if (JSON.stringify(now) === JSON.stringify(value)) continue;
    apply[key] = value;
    previous[key] = now;
  }
  return { apply, previous };
}
