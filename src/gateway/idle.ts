/**
 * Idle shutdown: a running container owned through the gateway that has had
 * no agent or terminal session and no exec for `timeoutMs` is stopped. The
 * clock of a container starts when the gateway first sees it running.
 */
import type { ApiClient } from '../api/client';
import type { Logger } from '../common/log';
import { OWNER_LABEL } from './ownership';

export class IdleTracker {
  private readonly sessions = new Map<string, number>();
  private readonly lastActive = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;

  constructor(
    private readonly engine: ApiClient,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Something happened in the container (a start, a request). */
  touch(id: string): void {
    this.lastActive.set(id, this.now());
  }

  /** A session (agent, terminal, exec) began; call the returned function when it ends. */
  begin(id: string): () => void {
    this.sessions.set(id, (this.sessions.get(id) ?? 0) + 1);
    this.touch(id);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const left = (this.sessions.get(id) ?? 1) - 1;
      if (left <= 0) this.sessions.delete(id);
      else this.sessions.set(id, left);
      this.touch(id);
    };
  }

  activeSessions(id: string): number {
    return this.sessions.get(id) ?? 0;
  }

  /** Checks every `intervalMs` (default: a quarter of the timeout, 1 s to 30 s). */
  start(intervalMs = Math.min(30_000, Math.max(1000, Math.floor(this.timeoutMs / 4)))): void {
    if (this.timeoutMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.sweep(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const running = await this.engine.call('containerList', { query: { filters: JSON.stringify({ label: [OWNER_LABEL], status: ['running'] }) } });
      const now = this.now();
      const seen = new Set<string>();
      for (const c of running) {
        seen.add(c.id);
        const last = this.lastActive.get(c.id);
        if (last === undefined) {
          this.lastActive.set(c.id, now);
          continue;
        }
        if (this.activeSessions(c.id) > 0 || now - last < this.timeoutMs) continue;
        this.logger.info('stopping an idle container', { container: c.name, owner: c.request.labels?.[OWNER_LABEL], idleSeconds: Math.round((now - last) / 1000) });
        await this.engine.call('containerStop', { params: { id: c.id } }).catch((err: unknown) => this.logger.warn('idle stop failed', { container: c.name, error: String(err) }));
        this.lastActive.delete(c.id);
      }
      for (const id of this.lastActive.keys()) if (!seen.has(id) && this.activeSessions(id) === 0) this.lastActive.delete(id);
    } catch (err) {
      this.logger.warn('idle check failed', { error: String(err) });
    } finally {
      this.sweeping = false;
    }
  }
}
