import type { Aggregation, MeterPeriod, MeterSpec } from '../catalog/catalog';
import { addDays, addMonths, toMillis } from '../shared/time';

/**
 * Metering: usage counted per entitlement, meter (feature) and period.
 *
 * Periods are anchored at the entitlement's start (`validFrom`), in UTC: a
 * monthly meter of an entitlement that began on the 14th at 09:30 runs from the
 * 14th 09:30 to the next 14th 09:30 (clamped to the month's last day, as terms
 * are). A plan change or renewal keeps the anchor, so the counter carries on
 * and only the cap changes.
 */
export interface PeriodWindow {
  /** Inclusive. */
  readonly start: string;
  /** Exclusive. */
  readonly end: string;
}

/** The period of a meter anchored at `anchor` that contains `atMs`. */
export function periodWindow(anchor: string, period: MeterPeriod, atMs: number): PeriodWindow {
  const step = (iso: string, n: number): string => (period === 'day' ? addDays(iso, n) : addMonths(iso, period === 'month' ? n : 12 * n));
  const anchorMs = toMillis(anchor);
  // An estimate of how many periods lie between, then a correction (months differ in length).
  const approx = period === 'day' ? 86_400_000 : period === 'month' ? 2_629_746_000 : 31_556_952_000;
  let n = Math.floor((atMs - anchorMs) / approx);
  let start = step(anchor, n);
  while (toMillis(start) > atMs) start = step(anchor, --n);
  let end = step(anchor, n + 1);
  while (toMillis(end) <= atMs) {
    n++;
    start = end;
    end = step(anchor, n + 1);
  }
  return { start, end };
}

/** One usage event as the metering service records it (CloudEvents fields, the data flattened). */
export interface UsageEvent {
  readonly source: string;
  readonly id: string;
  readonly customerId: string;
  readonly feature: string;
  readonly quantity: number;
  readonly time: string;
  readonly entitlementId?: string;
  readonly userId?: string;
  readonly deviceId?: string;
}


export interface MeterCounter {
  /** The meter's value for the period: the sum, the count, the maximum, or the number of distinct values. */
  readonly value: number;
  readonly events: number;
}

export const EMPTY_COUNTER: MeterCounter = { value: 0, events: 0 };

/**
 * The counter after one more event. For `unique_count`, `firstOfItsValue` says
 * whether the event's value (e.g. its userId) is new in this period; the
 * caller keeps the set of values seen.
 */
export function aggregate(counter: MeterCounter, aggregation: Aggregation, quantity: number, firstOfItsValue = true): MeterCounter {
  switch (aggregation) {
    case 'sum':
      return { value: counter.value + quantity, events: counter.events + 1 };
    case 'count':
      return { value: counter.value + 1, events: counter.events + 1 };
    case 'max':
      return { value: Math.max(counter.value, quantity), events: counter.events + 1 };
    case 'unique_count':
      return { value: counter.value + (firstOfItsValue ? 1 : 0), events: counter.events + 1 };
  }
}

/**
 * A meter's value as shown and billed: to a millionth. Float sums of fractional
 * quantities differ in their last bits with the order they were added in (an
 * ingest batch by batch, a rebuild row by row); a millionth hides that and no more.
 */
export function roundUsage(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

/** Used, remaining and overage of a meter for a value. */
export function meterStanding(meter: Pick<MeterSpec, 'cap' | 'capType'>, used: number): { used: number; cap: number; remaining: number; overage: number } {
  const shown = roundUsage(used);
  return { used: shown, cap: meter.cap, remaining: Math.max(0, meter.cap - Math.max(0, shown)), overage: Math.max(0, shown - meter.cap) };
}
