/**
 * The decision function's usage hook (`UsageLookup` in @el/domain), bound by
 * the metering service where it runs in the same process as the checks
 * (embedded): checks then see metered usage as soon as an ingest answered.
 */
export const USAGE_LOOKUP = Symbol('USAGE_LOOKUP');
