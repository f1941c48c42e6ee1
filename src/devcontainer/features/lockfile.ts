/**
 * devcontainer-lock.json: the OCI features' resolved digests, written next
 * to devcontainer.json (`.devcontainer-lock.json` beside a root
 * `.devcontainer.json`) and read back to pin them.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ResolvedFeature } from './resolve';

interface LockEntry {
  readonly version?: string;
  readonly resolved: string;
  readonly integrity: string;
  readonly dependsOn?: readonly string[];
}

export function lockfilePath(configFile: string): string {
  const base = path.basename(configFile);
  return path.join(path.dirname(configFile), base.startsWith('.') ? '.devcontainer-lock.json' : 'devcontainer-lock.json');
}

/** Pinned digests by feature id (empty when there is no lock file). */
export async function readLock(configFile: string): Promise<Record<string, string>> {
  const text = await readFile(lockfilePath(configFile), 'utf8').catch(() => undefined);
  if (!text) return {};
  try {
    const lock = JSON.parse(text) as { features?: Record<string, LockEntry> };
    return Object.fromEntries(Object.entries(lock.features ?? {}).filter(([, e]) => typeof e.integrity === 'string').map(([id, e]) => [id, e.integrity]));
  } catch {
    return {};
  }
}

export async function writeLock(configFile: string, features: readonly ResolvedFeature[]): Promise<void> {
  const entries = features.filter((f) => f.kind === 'oci' && f.digest && f.resolved).sort((a, b) => a.userId.localeCompare(b.userId));
  if (entries.length === 0) return;
  const lock = {
    features: Object.fromEntries(
      entries.map((f) => [
        f.userId,
        {
          ...(f.json.version ? { version: f.json.version } : {}),
          resolved: f.resolved,
          integrity: f.digest,
          ...(f.json.dependsOn ? { dependsOn: Object.keys(f.json.dependsOn) } : {}),
        },
      ]),
    ),
  };
  const text = JSON.stringify(lock, null, 2) + '\n';
  const current = await readFile(lockfilePath(configFile), 'utf8').catch(() => '');
  if (current !== text) await writeFile(lockfilePath(configFile), text);
}
