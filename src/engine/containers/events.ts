/** The engine's event bus: container and image events to subscribers. */
import type { EngineEvent } from '../../api/types/containers';

export class EventBus {
  private readonly listeners = new Set<(e: EngineEvent) => void>();

  subscribe(listener: (e: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: Omit<EngineEvent, 'timeNano'>): void {
    const full: EngineEvent = { ...event, timeNano: (BigInt(Date.now()) * 1_000_000n).toString() };
    for (const l of this.listeners) {
      try {
        l(full);
      } catch {
        /* a listener's failure is its own */
      }
    }
  }
}
