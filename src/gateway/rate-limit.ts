/**
 * Auth failures per remote address: after `maxFailures` within `windowMs`
 * the address is refused (429) until the oldest of them leaves the window.
 */
export interface AuthLimiterOptions {
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly now?: () => number;
}

export class AuthLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly now: () => number;

  constructor(private readonly options: AuthLimiterOptions) {
    this.now = options.now ?? Date.now;
  }

  private recent(address: string): number[] {
    const since = this.now() - this.options.windowMs;
    const list = (this.failures.get(address) ?? []).filter((t) => t > since);
    if (list.length === 0) this.failures.delete(address);
    else this.failures.set(address, list);
    return list;
  }

  /** Milliseconds the address must wait, 0 when it may try. */
  retryAfter(address: string): number {
    const list = this.recent(address);
    if (list.length < this.options.maxFailures) return 0;
    return Math.max(1, (list[list.length - this.options.maxFailures] ?? 0) + this.options.windowMs - this.now());
  }

  fail(address: string): void {
    const list = this.recent(address);
    list.push(this.now());
    this.failures.set(address, list.slice(-this.options.maxFailures));
    if (this.failures.size > 10_000) for (const key of [...this.failures.keys()].slice(0, 1000)) this.failures.delete(key);
  }
}
