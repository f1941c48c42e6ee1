/**
 * Per-user ownership: what a user makes through the gateway carries the
 * owner label, and a user sees and reaches only what carries theirs.
 * Anything else answers not_found, as if it did not exist.
 */
import type { ApiClient } from '../api/client';
import type { ContainerRecord } from '../api/types/containers';
import type { VolumeRecord } from '../api/types/volumes';
import { BerthError } from '../common/errors';

export const OWNER_LABEL = 'berth.owner';

export async function ownedContainer(engine: ApiClient, user: string, idOrName: string, signal?: AbortSignal): Promise<ContainerRecord> {
  const record = await engine.call('containerInspect', { params: { id: idOrName }, ...(signal ? { signal } : {}) }).catch((err: unknown) => {
    if (BerthError.is(err, 'not_found')) return undefined;
    throw err;
  });
  if (!record || record.request.labels?.[OWNER_LABEL] !== user) throw new BerthError('not_found', `no such container: ${idOrName}`);
  return record;
}

export async function ownedVolume(engine: ApiClient, user: string, name: string, signal?: AbortSignal): Promise<VolumeRecord | undefined> {
  const record = await engine.call('volumeInspect', { params: { name }, ...(signal ? { signal } : {}) }).catch((err: unknown) => {
    if (BerthError.is(err, 'not_found')) return undefined;
    throw err;
  });
  if (record && record.labels?.[OWNER_LABEL] !== user) throw new BerthError('not_found', `no such volume: ${name}`);
  return record;
}

/** Docker-style filters (JSON text) with the owner's label added. */
export function withOwnerFilter(filters: string | undefined, user: string): string {
  let parsed: Record<string, unknown> = {};
  if (filters) {
    try {
      const v = JSON.parse(filters) as unknown;
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) parsed = v as Record<string, unknown>;
      else throw new Error('not an object');
    } catch {
      throw new BerthError('invalid_argument', `filters must be a JSON object (got ${filters})`);
    }
  }
  const label = parsed['label'];
  const labels = Array.isArray(label) ? label.map(String) : typeof label === 'object' && label !== null ? Object.keys(label) : typeof label === 'string' ? [label] : [];
  return JSON.stringify({ ...parsed, label: [...labels, `${OWNER_LABEL}=${user}`] });
}
