import { Injectable } from '@nestjs/common';
import type { PeriodRef } from './usage-period-store';

const key = (entitlementId: string, feature: string, periodStart: string) => `${entitlementId}\u0000${feature}\u0000${periodStart}`;

/**
 * The periods this process knows are closed: ingestion refuses usage that
 * falls into one (USAGE.PERIOD_CLOSED), and the closer carries on after each
 * meter's newest closed period. Loaded from mt_period_closes at start (the
 * periods recent enough to still receive usage); every closer pass adds the
 * closes it records or finds already recorded by another process.
 *
 * Usage older than the lateness window is refused anyway (USAGE.TOO_LATE) and a
 * period closes only after its end plus that window, so this check matters when
 * USAGE_LATENESS_HOURS was raised after periods closed, or clocks disagree.
 */
@Injectable()
export class ClosedPeriods {
  private readonly closed = new Set<string>();
  private readonly newest = new Map<string, string>();

  add(ref: PeriodRef): void {
    this.closed.add(key(ref.entitlementId, ref.feature, ref.periodStart));
    this.advance(ref);
  }

  /** Only where the closer carries on (periods too old to receive usage need no entry in the set). */
  advance(ref: PeriodRef): void {
    const k = `${ref.entitlementId}\u0000${ref.feature}`;
    const held = this.newest.get(k);
    if (held === undefined || held < ref.periodStart) this.newest.set(k, ref.periodStart);
  }

  has(entitlementId: string, feature: string, periodStart: string): boolean {
    return this.closed.has(key(entitlementId, feature, periodStart));
  }

  /** The newest closed period start of a meter, if any. */
  newestOf(entitlementId: string, feature: string): string | undefined {
    return this.newest.get(`${entitlementId}\u0000${feature}`);
  }

  /** Ingestion's refusal of usage in a closed period, or null. */
  refusal(entitlementId: string, feature: string, periodStart: string): { readonly code: 'USAGE.PERIOD_CLOSED'; readonly reason: string } | null {
    if (!this.closed.has(key(entitlementId, feature, periodStart))) return null;
    return { code: 'USAGE.PERIOD_CLOSED', reason: `the ${feature} period of entitlement ${entitlementId} from ${periodStart} is closed: its totals are billed and never change` };
  }
}
