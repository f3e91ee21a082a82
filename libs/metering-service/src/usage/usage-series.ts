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
 * Reads the (customer_id, event_time) index; times are stored as UTC ISO-8601,
 * so a window is a prefix of the time.
 */
@Injectable()
export class UsageSeries {
  constructor(@Inject(METERING_DB) private readonly db: DataSource) {}

  async of(q: { customerId: string; entitlementId: string; feature: string; meter: MeterSpec; from: string; to: string; windowSize: WindowSize; groupBy?: SeriesGroup }): Promise<{ points: SeriesPoint[]; truncated: boolean }> {
    const pg = this.db.options.type === 'postgres';
    const $ = (n: number) => (pg ? `$${n}` : '?');
    const window = `substr(event_time, 1, ${q.windowSize === 'hour' ? 13 : 10})`;
    const group = q.groupBy ? (q.groupBy === 'userId' ? 'user_id' : 'device_id') : null;
    const of = q.meter.of === 'deviceId' ? 'device_id' : 'user_id';
    const value = { sum: 'SUM(quantity)', count: 'COUNT(*)', max: 'MAX(quantity)', unique_count: `COUNT(DISTINCT ${of})` }[q.meter.aggregation ?? 'sum'];
    const rows: { w: string; g?: string | null; value: number | string; events: number | string }[] = await this.db.query(
      `SELECT ${window} AS w${group ? `, ${group} AS g` : ''}, ${value} AS value, COUNT(*) AS events
         FROM mt_usage_events
        WHERE customer_id = ${$(1)} AND event_time >= ${$(2)} AND event_time < ${$(3)} AND entitlement_id = ${$(4)} AND feature = ${$(5)}
        GROUP BY ${window}${group ? `, ${group}` : ''}
        ORDER BY 1${group ? ', 2' : ''}
        LIMIT ${MAX_SERIES_POINTS + 1}`,
      [q.customerId, q.from, q.to, q.entitlementId, q.feature],
    );
    const suffix = q.windowSize === 'hour' ? ':00:00.000Z' : 'T00:00:00.000Z';
    const points = rows.slice(0, MAX_SERIES_POINTS).map((r) => ({ windowStart: `${r.w}${suffix}`, ...(group ? { group: r.g ?? null } : {}), value: Number(r.value ?? 0), events: Number(r.events) }));
    return { points, truncated: rows.length > MAX_SERIES_POINTS };
  }
}
