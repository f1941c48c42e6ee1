/**
 * Where the agent's reads take their slabs (slab-reads.ts), with a scavenge
 * of V8's young generation every few slabs. A slab dies young: its bytes are
 * written on within a turn or two. But V8 frees a dead ArrayBuffer only when
 * it scavenges, and it scavenges by what the JS heap allocates, not by what
 * buffers hold: through a busy tunnel some 30 MB of dead slabs waited for
 * each scavenge, resident all the while, then went back to the kernel to be
 * faulted in again. A scavenge of the agent's small heap takes ~0.3 ms.
 */
export const SLAB = 1 << 20;

/** Slabs between two scavenges: what a busy tunnel keeps resident, beside the bytes in flight. */
const SLABS_PER_COLLECTION = 4;

export class SlabSource {
  private taken = 0;

  /** `collect`: a young-generation collection (see youngCollection); without it, V8 decides alone. */
  constructor(private readonly collect?: () => void) {}

  take(): Buffer {
    if (this.collect && ++this.taken % SLABS_PER_COLLECTION === 0) this.collect();
    return Buffer.allocUnsafeSlow(SLAB);
  }
}

/** A young-generation collection when node runs with --expose-gc (as AGENT_NODE_FLAGS say); undefined otherwise. */
export function youngCollection(): (() => void) | undefined {
  const gc = globalThis.gc;
  return gc ? () => gc({ type: 'minor' }) : undefined;
}
