import { PositionWaiters } from '../view/position-waiters';
import type { UsageCountersV1 } from '@el/contracts';
import { periodWindow, type MeterPeriod, type UsageLookup } from '@el/domain';

/** What the lookup needs of an entitlement: whose it is and where its periods are anchored. */
export interface CountedEntitlement {
  readonly customerId: string;
  readonly validFrom: string;
}

interface CustomerCounters {
  readonly position: number;
  /** `<entitlementId>\0<feature>` → the counter of its latest period with usage. */
  readonly counters: ReadonlyMap<string, { readonly periodStart: string; readonly value: number }>;
}

/**
 * The enforcement service's view of metering.counters.v1: per customer, the
 * newest counters the metering service published. A message is a customer's
 * whole state; of two, the one with the higher position includes everything
 * the other does (positions are allocated under a lock held until commit), so
 * a message with a position not above the one held is ignored — messages of
 * several metering processes may arrive in any order.
 */
export class UsageCountersView {
  private readonly customers = new Map<string, CustomerCounters>();
  /** Per customer: positions are followed per customer. */
  private readonly waiters = new Map<string, PositionWaiters>();
  private readonly windows = new Map<string, { start: string; startMs: number; endMs: number }>();

  /** Keeps `m` if it is newer than what the customer's counters hold; false when it is not (a redelivery, or older). */
  apply(m: UsageCountersV1): boolean {
    const held = this.customers.get(m.customerId);
    if (held && held.position >= m.position) return false;
    const counters = new Map<string, { periodStart: string; value: number }>();
    for (const c of m.counters) counters.set(`${c.entitlementId}\u0000${c.feature}`, { periodStart: c.periodStart, value: c.value });
    this.customers.set(m.customerId, { position: m.position, counters });
    this.wake(m.customerId, m.position);
    return true;
  }

  /** The highest usage position of the customer's counters held (0: none yet). */
  position(customerId: string): number {
    return this.customers.get(customerId)?.position ?? 0;
  }

  get size(): number {
    return this.customers.size;
  }

  /** The meter's value in the period that starts at `periodStart`; 0 when the counter held is of another period. */
  value(customerId: string, entitlementId: string, feature: string, periodStart: string): number {
    const c = this.customers.get(customerId)?.counters.get(`${entitlementId}\u0000${feature}`);
    return c !== undefined && c.periodStart === periodStart ? c.value : 0;
  }

  /**
   * The decision function's usage hook over these counters: the period of the
   * entitlement's meter that contains `atMs`, anchored at its start (as metering
   * counts it). Windows are kept per entitlement, so the calendar arithmetic
   * runs once per period, not per check.
   */
  lookup(entitlementOf: (entitlementId: string) => CountedEntitlement | undefined): UsageLookup {
    return (entitlementId, feature, period, atMs) => {
      if (period === null) return 0;
      const e = entitlementOf(entitlementId);
      if (!e) return 0;
      return this.value(e.customerId, entitlementId, feature, this.windowOf(entitlementId, e.validFrom, period, atMs));
    };
  }

  private windowOf(entitlementId: string, validFrom: string, period: MeterPeriod, atMs: number): string {
    const key = `${entitlementId}\u0000${period}\u0000${validFrom}`;
    let w = this.windows.get(key);
    if (!w || atMs < w.startMs || atMs >= w.endMs) {
      const pw = periodWindow(validFrom, period, atMs);
      if (this.windows.size > 100_000) this.windows.clear();
      this.windows.set(key, (w = { start: pw.start, startMs: Date.parse(pw.start), endMs: Date.parse(pw.end) }));
    }
    return w.start;
  }

  /** Resolves true once the customer's counters include `position`, false after `timeoutMs`. */
  waitFor(customerId: string, position: number, timeoutMs: number): Promise<boolean> {
    if (this.position(customerId) >= position) return Promise.resolve(true);
    let waiters = this.waiters.get(customerId);
    if (!waiters) this.waiters.set(customerId, (waiters = new PositionWaiters()));
    const forCustomer = waiters;
    return forCustomer.wait(position, timeoutMs).finally(() => {
      if (forCustomer.size === 0 && this.waiters.get(customerId) === forCustomer) this.waiters.delete(customerId);
    });
  }

  /** Fails every pending wait (shutdown). */
  cancelWaits(): void {
    for (const w of this.waiters.values()) w.cancel();
    this.waiters.clear();
  }

  private wake(customerId: string, position: number): void {
    this.waiters.get(customerId)?.reached(position);
  }
}
