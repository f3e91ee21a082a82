/**
 * The decision function's usage hook (`UsageLookup` in @el/domain), bound by
 * the metering service where it runs in the same process as the checks
 * (embedded): checks then see metered usage as soon as an ingest answered.
 */
export const USAGE_LOOKUP = Symbol('USAGE_LOOKUP');

/**
 * How far the usage counters a check reads have come, per customer
 * (read-your-usage, `minUsagePosition`). Bound next to USAGE_LOOKUP: by the
 * metering service in the same process (its counters move before an ingest
 * answers), or by the enforcement service's view of metering.counters.v1.
 */
export interface UsageProgress {
  /** Resolves true once the counters of `customerId` include usage position `position`, false after `timeoutMs`. */
  waitFor(customerId: string, position: number, timeoutMs: number): Promise<boolean>;
}

export const USAGE_PROGRESS = Symbol('USAGE_PROGRESS');
