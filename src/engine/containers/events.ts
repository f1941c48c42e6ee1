/** The engine's event bus: container and image events to subscribers, and the latest ones for replay (`docker events --since`). */
import type { EngineEvent } from '../../api/types/containers';

/** How many past events are kept for replay. */
const KEEP = 1024;

export class EventBus {
  private readonly listeners = new Set<(e: EngineEvent) => void>();
  private readonly past: EngineEvent[] = [];

  /**
   * Calls `listener` for every event until the returned function is called. With `since`
   * (Unix nanoseconds), the kept events from then on come first, in the same turn: none
   * is missed or given twice.
   */
  subscribe(listener: (e: EngineEvent) => void, options: { since?: bigint | undefined } = {}): () => void {
    const since = options.since;
    if (since !== undefined) for (const e of [...this.past]) if (BigInt(e.timeNano) >= since) listener(e);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: Omit<EngineEvent, 'timeNano'>): void {
    const full: EngineEvent = { ...event, timeNano: (BigInt(Date.now()) * 1_000_000n).toString() };
    this.past.push(full);
    if (this.past.length > KEEP) this.past.splice(0, this.past.length - KEEP);
    for (const l of this.listeners) {
      try {
        l(full);
      } catch {
        /* a listener's failure is its own */
      }
    }
  }
}
