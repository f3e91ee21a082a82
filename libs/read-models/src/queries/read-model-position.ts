import type { DataSource } from 'typeorm';
import { dialectOf } from '../projector/sql';
import { readCheckpoint } from '../projector/projector';

/**
 * How far the read models have got: the projector's checkpoint. Queries that
 * carry `minPosition` wait here until the read models include that write. An
 * in-process projector reports each commit (instant wake-up); otherwise the
 * checkpoint is polled while someone waits.
 */
export class ReadModelPosition {
  private known = 0;
  private readonly waiters = new Set<{ position: number; wake: () => void }>();
  private polling: NodeJS.Timeout | null = null;
  /** Set while an in-process projector catches up with the log's head as it was at start. */
  private catchUp: { readonly from: number; readonly target: number; readonly since: number } | null = null;

  constructor(
    private readonly ds: DataSource,
    private readonly subscriptionId: string,
    private readonly pollIntervalMs = 10,
  ) {}

  /** Called by an in-process projector after each commit. */
  advanced(position: number): void {
    if (position <= this.known) return;
    this.known = position;
    for (const w of this.waiters) if (position >= w.position) w.wake();
  }

  /** Called by an in-process projector that starts at `from` while the log's head is `target`. */
  catchingUp(from: number, target: number): void {
    this.catchUp = target > from && target > this.known ? { from, target, since: performance.now() } : null;
  }

  /**
   * While the read models catch up after a start: the head they are catching up with, where they
   * are, and when they should be there at the rate so far (null once there, or with no in-process projector).
   */
  catchingUpTo(): { readonly position: number; readonly head: number; readonly etaSeconds: number | null } | null {
    const c = this.catchUp;
    if (!c || this.known >= c.target) {
      this.catchUp = null;
      return null;
    }
    const seconds = (performance.now() - c.since) / 1000;
    const rate = seconds >= 0.5 ? (this.known - c.from) / seconds : 0;
    return { position: this.known, head: c.target, etaSeconds: rate > 0 ? Math.ceil((c.target - this.known) / rate) : null };
  }

  async current(): Promise<number> {
    const qr = this.ds.createQueryRunner();
    try {
      this.advanced(await readCheckpoint(qr, dialectOf(this.ds), this.subscriptionId));
    } finally {
      await qr.release();
    }
    return this.known;
  }

  /** True once the read models include `position`; false after `timeoutMs`. */
  async waitFor(position: number, timeoutMs: number): Promise<boolean> {
    if (position <= this.known || position <= (await this.current())) return true;
    return new Promise<boolean>((resolve) => {
      const waiter = {
        position,
        wake: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          if (this.waiters.size === 0) this.stopPolling();
          resolve(this.known >= position);
        },
      };
      const timer = setTimeout(waiter.wake, timeoutMs);
      this.waiters.add(waiter);
      this.startPolling();
    });
  }

  private startPolling(): void {
    if (this.polling) return;
    this.polling = setInterval(() => void this.current().catch(() => undefined), this.pollIntervalMs);
  }

  private stopPolling(): void {
    if (this.polling) clearInterval(this.polling);
    this.polling = null;
  }

  close(): void {
    this.stopPolling();
    for (const w of this.waiters) w.wake();
  }
}
