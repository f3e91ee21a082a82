import type { DecisionUsageV1 } from '@el/contracts';
import type { UsageLookup } from '@el/domain';

/**
 * The usage lookup checks consult, wrapped so that every value it answered
 * for a decision is remembered: usage counters are not ledger history, so a
 * decision can only be replayed with the values it actually read. One
 * recorder serves every check of the process — a check is synchronous, so
 * `begin()`, the check and `recorded()` never interleave with another check.
 */
export class UsageRecorder {
  private readonly calls: DecisionUsageV1[] = [];
  readonly lookup: UsageLookup;

  /** `source`: where usage comes from (none: every meter reads 0). */
  constructor(source?: UsageLookup) {
    this.lookup = (entitlementId, feature, period, atMs) => {
      // What the decision function does with a missing value, done here so the record says what was used.
      const value = (source ? source(entitlementId, feature, period, atMs) : 0) ?? 0;
      this.calls.push({ entitlementId, feature, period, value });
      return value;
    };
  }

  /** Forgets the previous check's lookups. */
  begin(): void {
    this.calls.length = 0;
  }

  /** The lookups since `begin()`, in the order they were made. */
  recorded(): DecisionUsageV1[] {
    return this.calls.slice();
  }
}
