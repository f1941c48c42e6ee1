/**
 * The agent's watch channel (subsystem berth-watch): the client writes
 * {"path", "recursive", "exclude"} as one JSON line and reads events
 * {"type": "change"|"rename"|"ready"|"error", "path", "message"?}. Pure.
 */
export interface WatchRequest {
  readonly path: string;
  readonly recursive: boolean;
  readonly exclude: readonly string[];
}

export type WatchEvent =
  | { readonly type: 'change' | 'rename'; readonly path: string }
  | { readonly type: 'ready'; readonly path: string }
  | { readonly type: 'error'; readonly path?: string; readonly message: string };

export function watchRequestLine(req: WatchRequest): string {
  return `${JSON.stringify(req)}\n`;
}

export function parseWatchEvent(line: string): WatchEvent | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Record<string, unknown>;
  const path = typeof r['path'] === 'string' ? r['path'] : undefined;
  if ((r['type'] === 'change' || r['type'] === 'rename' || r['type'] === 'ready') && path) return { type: r['type'], path };
  if (r['type'] === 'error') return { type: 'error', message: typeof r['message'] === 'string' ? r['message'] : 'watch failed', ...(path ? { path } : {}) };
  return undefined;
}

/** VS Code's default files.watcherExclude, as folder names the agent skips. */
export function excludesFromGlobs(globs: Readonly<Record<string, boolean>>): string[] {
  const out = new Set<string>();
  for (const [glob, on] of Object.entries(globs)) {
    if (!on) continue;
    const m = /^\*\*\/([^*/]+)\/\*\*$/.exec(glob) ?? /^\*\*\/([^*/]+)$/.exec(glob);
    if (m?.[1]) out.add(m[1]);
  }
  return [...out];
}
