import { CodedError } from '../errors/coded-error';

/**
 * A token bucket per key (a principal): `perSecond` tokens a second, bursts of
 * up to `burst`. `take` answers 0 when allowed, else the seconds to wait.
 * Buckets of principals not seen for a minute are dropped.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private lastSweep = 0;

  constructor(
    readonly perSecond: number,
    readonly burst: number = Math.max(1, perSecond),
    private readonly now: () => number = () => performance.now(),
  ) {}

  get enabled(): boolean {
    return this.perSecond > 0;
  }

  take(key: string): number {
    if (this.perSecond <= 0) return 0;
    const now = this.now();
    let b = this.buckets.get(key);
    if (!b) this.buckets.set(key, (b = { tokens: this.burst, at: now }));
    else {
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
      b.at = now;
    }
    if (now - this.lastSweep > 60_000) this.sweep(now);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.perSecond));
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [k, b] of this.buckets) if (now - b.at > 60_000) this.buckets.delete(k);
  }
}

/** RATE_LIMITED (429); the answer's Retry-After comes from `details.retryAfterSeconds`. */
export function rateLimited(retryAfterSeconds: number, what: string): CodedError {
  return new CodedError('RATE_LIMITED', `too many ${what}: retry after ${retryAfterSeconds} s`, { retryAfterSeconds });
}
