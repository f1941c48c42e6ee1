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

/**
 * What malloc keeps for the agent (native keepHeap): blocks up to HEAP_BLOCK
 * (a slab, ssh2's packets) come from its heap, and up to HEAP_KEEP of free
 * memory stays there. By default glibc maps such blocks on their own until
 * one is freed, then trims its heap's top past twice the largest: slabs
 * freed four at a time went back to the kernel, to be faulted in and zeroed
 * again page by page (agent-memory.test.ts: 30 MiB of 30 taken again; through
 * bench/agent.mjs's tunnel 1,000-6,000 faults per 128 MiB, 100-400 with it).
 * The idle release (memory-release.ts) trims the heap once the agent is quiet.
 */
export const HEAP_BLOCK = 2 * SLAB;
export const HEAP_KEEP = 32 * SLAB;

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
