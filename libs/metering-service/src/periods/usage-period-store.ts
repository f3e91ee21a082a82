import { roundUsage } from '@el/domain';
import { placeholders } from '@el/read-models';
import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import type { UsageCorrected, UsageFigures, UsagePeriodClosed } from '@el/domain';
import { METERING_DB } from '../metering.config';
import { inTurn } from '../store/store-writes';

/** Placeholders of the store's SQL dialect: `$1, $2…` (PostgreSQL) or `?`. */

/** A correction as the metering store keeps it. */
export interface CorrectionRow {
  readonly correction_id: string;
  readonly fingerprint: string;
  readonly customer_id: string;
  readonly entitlement_id: string;
  readonly feature: string;
  readonly period_start: string;
  readonly quantity: number | string;
  readonly reason: string;
  readonly corrects: string;
  readonly actor: string;
  readonly corrected_at: string;
  readonly position: number | string;
}

/** A period's key in the metering store. */
export interface PeriodRef {
  readonly entitlementId: string;
  readonly feature: string;
  readonly periodStart: string;
}

/** `[from, to)` of period starts (ISO-8601 strings, all in the same `…T…:…:….sssZ` form, so they sort as text). */
export interface PeriodStartRange {
  readonly from: string;
  readonly to: string;
}

export interface PeriodFigures extends UsageFigures {
  /** The counter (usage and corrections). */
  readonly value: number;
  readonly corrections: { readonly count: number; readonly total: number };
}

/**
 * The metering store's side of corrections and period closes: a correction's
 * row and its counter change commit together (once per correctionId); a
 * close is kept as the record the event store holds.
 */
@Injectable()
export class UsagePeriodStore {
  private readonly p: (n: number) => string;

  constructor(@Inject(METERING_DB) readonly db: DataSource) {
    this.p = placeholders(db);
  }

  private get postgres(): boolean {
    return this.db.options.type === 'postgres';
  }

  async correction(correctionId: string): Promise<CorrectionRow | null> {
    const rows: CorrectionRow[] = await this.db.query(`SELECT * FROM mt_corrections WHERE correction_id = ${this.p(1)}`, [correctionId]);
    return rows[0] ?? null;
  }

  /**
   * Applies a recorded correction: its row, a usage position, and the counter
   * moved by its quantity, in one transaction. A correction already applied
   * (a retry, or another process a moment ago) changes nothing. Answers the
   * counter after it (for the in-memory counters) and the position it took.
   */
  async applyCorrection(c: UsageCorrected['data'], actor: string): Promise<{ readonly applied: boolean; readonly position: number; readonly value: number | null; readonly counterPosition: number | null }> {
    return inTurn(this.db, () => this.db.transaction(async (tx) => {
      const stored = await tx.query(`SELECT position FROM mt_corrections WHERE correction_id = ${this.p(1)}`, [c.correctionId]);
      if (stored.length > 0) return { applied: false, position: Number(stored[0].position), value: null, counterPosition: null };
      // The same sequence as usage events (and the same lock, taken first): a rebuild or an ingest orders with it.
      const position = await this.takePosition(tx);
      const inserted: unknown[] = await tx.query(
        `INSERT INTO mt_corrections (correction_id, fingerprint, customer_id, entitlement_id, feature, period_start, quantity, reason, corrects, actor, corrected_at, position)
         VALUES (${Array.from({ length: 12 }, (_, i) => this.p(i + 1)).join(', ')}) ON CONFLICT (correction_id) DO NOTHING RETURNING correction_id`,
        [c.correctionId, c.fingerprint, c.customerId, c.entitlementId, c.feature, c.periodStart, c.quantity, c.reason, JSON.stringify(c.corrects), actor, c.correctedAt, position],
      );
      if (inserted.length === 0) {
        const again = await tx.query(`SELECT position FROM mt_corrections WHERE correction_id = ${this.p(1)}`, [c.correctionId]);
        return { applied: false, position: Number(again[0].position), value: null, counterPosition: null };
      }
      const counter: { value: number | string; position: number | string }[] = await tx.query(
        `INSERT INTO mt_counters (entitlement_id, feature, period_start, value, events, position) VALUES (${[1, 2, 3, 4].map(this.p).join(', ')}, 0, ${this.p(5)})
         ON CONFLICT (entitlement_id, feature, period_start) DO UPDATE SET value = mt_counters.value + excluded.value,
           position = CASE WHEN excluded.position > mt_counters.position THEN excluded.position ELSE mt_counters.position END
         RETURNING value, position`,
        [c.entitlementId, c.feature, c.periodStart, c.quantity, position],
      );
      return { applied: true, position, value: Number(counter[0]!.value), counterPosition: Number(counter[0]!.position) };
    }));
  }

  private async takePosition(tx: EntityManager): Promise<number> {
    const rows: unknown[] = await tx.query(`UPDATE mt_positions SET value = value + 1 WHERE name = 'usage' RETURNING value`);
    // On PostgreSQL the driver answers [rows, count] for UPDATE … RETURNING through TypeORM.
    const row = (Array.isArray(rows[0]) ? (rows[0] as unknown[])[0] : rows[0]) as { value: number | string };
    return Number(row.value);
  }

  /** What the store counted for one period now: the counter, its corrections, its raw events' count and positions. */
  async figures(ref: PeriodRef): Promise<PeriodFigures> {
    const args = [ref.entitlementId, ref.periodStart, ref.feature];
    const where = `entitlement_id = ${this.p(1)} AND period_start = ${this.p(2)} AND feature = ${this.p(3)}`;
    // One read transaction: the four answers describe the same moment.
    return inTurn(this.db, () => this.db.transaction(async (tx) => {
      const through: { value: number | string }[] = await tx.query(`SELECT value FROM mt_positions WHERE name = 'usage'`);
      const counter: { value: number | string }[] = await tx.query(`SELECT value FROM mt_counters WHERE ${where}`, args);
      const corr: { n: number | string; total: number | string | null }[] = await tx.query(`SELECT COUNT(*) AS n, SUM(quantity) AS total FROM mt_corrections WHERE ${where}`, args);
      const ev: { n: number | string; first: number | string | null; last: number | string | null }[] = await tx.query(`SELECT COUNT(*) AS n, MIN(position) AS first, MAX(position) AS last FROM mt_usage_events WHERE ${where}`, args);
      const value = roundUsage(Number(counter[0]?.value ?? 0));
      const total = roundUsage(Number(corr[0]?.total ?? 0));
      return {
        value,
        // The counter holds the meter's aggregation of the raw events plus the corrections.
        usage: roundUsage(value - total),
        corrections: { count: Number(corr[0]?.n ?? 0), total },
        events: Number(ev[0]?.n ?? 0),
        firstPosition: ev[0]?.first == null ? null : Number(ev[0].first),
        lastPosition: ev[0]?.last == null ? null : Number(ev[0].last),
        throughPosition: Number(through[0]?.value ?? 0),
      };
    }));
  }

  /** Keeps the close as the event store holds it (a second writer of the same close changes nothing). */
  async recordClose(closed: UsagePeriodClosed['data'], eventPosition: number): Promise<void> {
    await inTurn(this.db, () => this.db.query(
      `INSERT INTO mt_period_closes (entitlement_id, feature, period_start, customer_id, closed_at, record, event_position) VALUES (${Array.from({ length: 7 }, (_, i) => this.p(i + 1)).join(', ')})
       ON CONFLICT (entitlement_id, feature, period_start) DO NOTHING`,
      [closed.entitlementId, closed.feature, closed.periodStart, closed.customerId, closed.closedAt, JSON.stringify(closed), eventPosition],
    ));
  }

  /** Closed periods whose start is at or after `since` (what ingestion must still refuse). */
  async closedSince(since: string): Promise<PeriodRef[]> {
    const rows: { entitlement_id: string; feature: string; period_start: string }[] = await this.db.query(`SELECT entitlement_id, feature, period_start FROM mt_period_closes WHERE period_start >= ${this.p(1)}`, [since]);
    return rows.map((r) => ({ entitlementId: r.entitlement_id, feature: r.feature, periodStart: r.period_start }));
  }

  /** The newest closed period start of every meter (where the closer carries on). */
  async latestCloses(): Promise<PeriodRef[]> {
    const rows: { entitlement_id: string; feature: string; period_start: string }[] = await this.db.query(`SELECT entitlement_id, feature, MAX(period_start) AS period_start FROM mt_period_closes GROUP BY entitlement_id, feature`);
    return rows.map((r) => ({ entitlementId: r.entitlement_id, feature: r.feature, periodStart: r.period_start }));
  }

  /** Periods with usage or corrections that started before `before` and are not closed (revoked or expired entitlements' last periods, meters gone from a plan). */
  async unclosedWithUsage(before: string, limit: number): Promise<PeriodRef[]> {
    const rows: { entitlement_id: string; feature: string; period_start: string }[] = await this.db.query(
      `SELECT c.entitlement_id, c.feature, c.period_start FROM mt_counters c
       LEFT JOIN mt_period_closes p ON p.entitlement_id = c.entitlement_id AND p.feature = c.feature AND p.period_start = c.period_start
       WHERE p.entitlement_id IS NULL AND c.period_start < ${this.p(1)} ORDER BY c.period_start, c.entitlement_id, c.feature LIMIT ${Math.max(1, Math.floor(limit))}`,
      [before],
    );
    return rows.map((r) => ({ entitlementId: r.entitlement_id, feature: r.feature, periodStart: r.period_start }));
  }

  /** The closes of one entitlement in a range of period starts. */
  async closesOf(entitlementId: string, range: PeriodStartRange): Promise<UsagePeriodClosed['data'][]> {
    const rows: { record: string }[] = await this.db.query(`SELECT record FROM mt_period_closes WHERE entitlement_id = ${this.p(1)} AND period_start >= ${this.p(2)} AND period_start < ${this.p(3)}`, [entitlementId, range.from, range.to]);
    return rows.map((r) => JSON.parse(r.record) as UsagePeriodClosed['data']);
  }

  /** Counter values, correction totals and raw-event figures of one entitlement's periods in a range, by `feature\0periodStart`. */
  async openFiguresOf(entitlementId: string, range: PeriodStartRange): Promise<Map<string, Omit<PeriodFigures, 'throughPosition'>>> {
    const args = [entitlementId, range.from, range.to];
    const where = `entitlement_id = ${this.p(1)} AND period_start >= ${this.p(2)} AND period_start < ${this.p(3)}`;
    const counters: { feature: string; period_start: string; value: number | string }[] = await this.db.query(`SELECT feature, period_start, value FROM mt_counters WHERE ${where}`, args);
    const corr: { feature: string; period_start: string; n: number | string; total: number | string }[] = await this.db.query(`SELECT feature, period_start, COUNT(*) AS n, SUM(quantity) AS total FROM mt_corrections WHERE ${where} GROUP BY feature, period_start`, args);
    const ev: { feature: string; period_start: string; n: number | string; first: number | string; last: number | string }[] = await this.db.query(
      `SELECT feature, period_start, COUNT(*) AS n, MIN(position) AS first, MAX(position) AS last FROM mt_usage_events WHERE ${where} GROUP BY feature, period_start`,
      args,
    );
    const out = new Map<string, { value: number; usage: number; corrections: { count: number; total: number }; events: number; firstPosition: number | null; lastPosition: number | null }>();
    const at = (feature: string, periodStart: string) => {
      const k = `${feature}\u0000${periodStart}`;
      let f = out.get(k);
      if (!f) out.set(k, (f = { value: 0, usage: 0, corrections: { count: 0, total: 0 }, events: 0, firstPosition: null, lastPosition: null }));
      return f;
    };
    for (const r of counters) at(r.feature, r.period_start).value = roundUsage(Number(r.value));
    for (const r of corr) at(r.feature, r.period_start).corrections = { count: Number(r.n), total: roundUsage(Number(r.total)) };
    for (const r of ev) Object.assign(at(r.feature, r.period_start), { events: Number(r.n), firstPosition: Number(r.first), lastPosition: Number(r.last) });
    for (const f of out.values()) f.usage = roundUsage(f.value - f.corrections.total);
    return out;
  }

  /** One page of a period's raw events in position order, after `afterPosition` and at most `throughPosition`. */
  async eventsPage(ref: PeriodRef, afterPosition: number, throughPosition: number | null, limit: number): Promise<Record<string, unknown>[]> {
    const through = throughPosition === null ? '' : ` AND position <= ${this.p(5)}`;
    return this.db.query(
      `SELECT source, id, event_time, quantity, user_id, device_id, position, received_at FROM mt_usage_events
       WHERE entitlement_id = ${this.p(1)} AND period_start = ${this.p(2)} AND feature = ${this.p(3)} AND position > ${this.p(4)}${through} ORDER BY position LIMIT ${Math.floor(limit)}`,
      [ref.entitlementId, ref.periodStart, ref.feature, afterPosition, ...(throughPosition === null ? [] : [throughPosition])],
    );
  }

  /** A period's corrections in position order (a closed period's are all at or before its `throughPosition`). */
  async correctionsOf(ref: PeriodRef, throughPosition: number | null): Promise<CorrectionRow[]> {
    const through = throughPosition === null ? '' : ` AND position <= ${this.p(4)}`;
    return this.db.query(
      `SELECT * FROM mt_corrections WHERE entitlement_id = ${this.p(1)} AND period_start = ${this.p(2)} AND feature = ${this.p(3)}${through} ORDER BY position`,
      [ref.entitlementId, ref.periodStart, ref.feature, ...(throughPosition === null ? [] : [throughPosition])],
    );
  }

  get dialect(): 'postgres' | 'sqlite' {
    return this.postgres ? 'postgres' : 'sqlite';
  }
}
