import { Injectable } from '@nestjs/common';
import type { MeterPeriod } from '@el/domain';
import { MeterRegistry } from '../meters/meter-registry';

const key = (entitlementId: string, feature: string, periodStart: string) => `${entitlementId}\u0000${feature}\u0000${periodStart}`;

/**
 * The meters' values in memory, as committed: what checks read
 * (`lookup`, the decision function's usage hook). Loaded from the store at
 * start and moved forward by every ingest after its commit, so a check after
 * an ingest's answer sees that usage (read-your-usage).
 */
@Injectable()
export class UsageCounters {
  private readonly values = new Map<string, number>();
  private highest = 0;

  constructor(private readonly registry: MeterRegistry) {}

  set(entitlementId: string, feature: string, periodStart: string, value: number, position: number): void {
    this.values.set(key(entitlementId, feature, periodStart), value);
    if (position > this.highest) this.highest = position;
  }

  value(entitlementId: string, feature: string, periodStart: string): number {
    return this.values.get(key(entitlementId, feature, periodStart)) ?? 0;
  }

  /** The newest usage position these counters include. */
  get position(): number {
    return this.highest;
  }

  /** The decision function's usage hook: the entitlement's meter in the period that contains `atMs`. */
  readonly lookup = (entitlementId: string, feature: string, period: MeterPeriod | null, atMs: number): number => {
    if (period === null) return 0;
    const e = this.registry.get(entitlementId);
    if (!e) return 0;
    return this.value(entitlementId, feature, this.registry.periodOf(e, period, atMs).start);
  };
}
