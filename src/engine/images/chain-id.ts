/** Layer identities of the image spec. */
import { createHash } from 'node:crypto';
import type { Digest } from '../../api/types/oci';

/** ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)). */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const diffId of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev ? `sha256:${createHash('sha256').update(`${prev} ${diffId}`).digest('hex')}` : diffId);
  }
  return out;
}
