import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { MeterSpec } from '@el/domain';
import { METERING_DB } from '../metering.config';

export type WindowSize = 'hour' | 'day';
export type SeriesGroup = 'userId' | 'deviceId';

export interface SeriesPoint {
  /** The window's start (UTC): `2026-12-01T13:00:00.000Z` for an hour, `2026-12-01T00:00:00.000Z` for a day. */
  readonly windowStart: string;
  /** The userId or deviceId (null: events without one), when grouped. */
  readonly group?: string | null;
  /** The meter's aggregation over the window's events: sum, count, max, or distinct values. */
  readonly value: number;
  readonly events: number;
}

/** Most points one answer holds (e.g. a month of hours for 13 groups); past it the answer says truncated. */
export const MAX_SERIES_POINTS = 10_000;

/**
 * Usage over time, from the raw usage events: one point per window (hour or
 * day, UTC) and optionally per user or device, aggregated as the meter says.
 * Reads the (entitlement_id, period_start, position) index (the periods that
 * overlap the range); times are stored as UTC ISO-8601, so a window is a
 * prefix of the time.
 */
@Injectable()
export class UsageSeries {
  constructor(@Inject(METERING_DB) private readonly db: DataSource) {}

  /** `firstPeriodStart`: the start of the meter's period that contains `from` (the index is by entitlement and period). */
  async of(q: { customerId: string; entitlementId: string; feature: string; meter: MeterSpec; from: string; to: string; firstPeriodStart: string; windowSize: WindowSize; groupBy?: SeriesGroup }): Promise<{ points: SeriesPoint[]; truncated: boolean }> {
    const pg = this.db.options.type === 'postgres';
    const $ = (n: number) => (pg ? `$${n}` : '?');
    const window = `substr(event_time, 1, ${q.windowSize === 'hour' ? 13 : 10})`;
    const group = q.groupBy ? (q.groupBy === 'userId' ? 'user_id' : 'device_id') : null;
    const of = q.meter.of === 'deviceId' ? 'device_id' : 'user_id';
    const value = { sum: 'SUM(quantity)', count: 'COUNT(*)', max: 'MAX(quantity)', unique_count: `COUNT(DISTINCT ${of})` }[q.meter.aggregation ?? 'sum'];
    const rows: { w: string; g?: string | null; value: number | string; events: number | string }[] = await this.db.query(
      `SELECT ${window} AS w${group ? `, ${group} AS g` : ''}, ${value} AS value, COUNT(*) AS events
         FROM mt_usage_events
        WHERE entitlement_id = ${$(1)} AND period_start >= ${$(2)} AND period_start < ${$(3)} AND customer_id = ${$(4)} AND event_time >= ${$(5)} AND event_time < ${$(6)} AND feature = ${$(7)}
        GROUP BY ${window}${group ? `, ${group}` : ''}
        ORDER BY 1${group ? ', 2' : ''}
        LIMIT ${MAX_SERIES_POINTS + 1}`,
      // In the order of their placeholders (SQLite's are positional).
      [q.entitlementId, q.firstPeriodStart, q.to, q.customerId, q.from, q.to, q.feature],
    );
    const suffix = q.windowSize === 'hour' ? ':00:00.000Z' : 'T00:00:00.000Z';
    const points = rows.slice(0, MAX_SERIES_POINTS).map((r) => ({ windowStart: `${r.w}${suffix}`, ...(group ? { group: r.g ?? null } : {}), value: Number(r.value ?? 0), events: Number(r.events) }));
    return { points, truncated: rows.length > MAX_SERIES_POINTS };
  }
}
