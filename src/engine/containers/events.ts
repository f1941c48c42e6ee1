/** The engine's event bus: container and image events to subscribers, and the latest ones for replay (`docker events --since`). */
import type { EngineEvent } from '../../api/types/containers';

/** How many past events are kept for replay. */
const KEEP = 1024;

export class EventBus {
  private readonly listeners = new Set<(e: EngineEvent) => void>();
  private readonly past: EngineEvent[] = [];

  subscribe(listener: (e: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The latest events, oldest first (the same objects subscribers got). */
  recent(): readonly EngineEvent[] {
    return [...this.past];
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
