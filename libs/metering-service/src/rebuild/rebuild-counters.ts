import type { DataSource, EntityManager } from 'typeorm';
import { insertRows, placeholders } from '@el/read-models';
import { aggregate, EMPTY_COUNTER, type Aggregation, type MeterCounter } from '@el/domain';

import { inTurn } from '../store/store-writes';

export interface CounterRebuildProgress {
  readonly phase: 'events' | 'corrections' | 'write' | 'done';
  /** Rows read so far (raw events, then corrections). */
  readonly done: number;
  readonly total: number;
  readonly rowsPerSecond: number;
}

export interface CounterRebuildResult {
  readonly events: number;
  readonly corrections: number;
  readonly counters: number;
  readonly seconds: number;
}

const PAGE = 10_000;

/** How an event was counted (its `counted_as`): the aggregation, and for unique_count the field whose values count. */
function countedAsOf(raw: string | null): { aggregation: Aggregation; field: 'user_id' | 'device_id' } {
  const [aggregation, of] = (raw ?? 'sum').split(':') as [Aggregation, string | undefined];
  return { aggregation, field: of === 'deviceId' ? 'device_id' : 'user_id' };
}

/**
 * Recomputes mt_counters (and the distinct values of UNIQUE_COUNT meters) from
 * the raw usage events alone — each says how it was counted (`counted_as`) —
 * in position order, and the corrections (mt_corrections), in one transaction:
 * the counters are replaced only when the whole rebuild succeeded. Alerts and
 * period closes stay as they are (they are records, not derived state).
 * The transaction first takes the usage-position row, as every ingest does, so
 * ingests of other processes wait for it (PostgreSQL) and nothing is counted
 * in between; processes holding counters in memory load them at start.
 */
export async function rebuildMeteringCounters(db: DataSource, onProgress?: (p: CounterRebuildProgress) => void): Promise<CounterRebuildResult> {
  const p = placeholders(db);
  const started = performance.now();
  return inTurn(db, () =>
    db.transaction(async (tx) => {
      await tx.query(`UPDATE mt_positions SET value = value WHERE name = 'usage'`);
      const total = Number((await tx.query('SELECT COUNT(*) AS n FROM mt_usage_events'))[0].n) + Number((await tx.query('SELECT COUNT(*) AS n FROM mt_corrections'))[0].n);
      const counters = new Map<string, { entitlementId: string; feature: string; periodStart: string; counter: MeterCounter; position: number; seen?: Set<string> }>();
      const at = (entitlementId: string, feature: string, periodStart: string) => {
        const k = `${entitlementId}\u0000${feature}\u0000${periodStart}`;
        let c = counters.get(k);
        if (!c) counters.set(k, (c = { entitlementId, feature, periodStart, counter: EMPTY_COUNTER, position: 0 }));
        return c;
      };
      let done = 0;
      const report = (phase: CounterRebuildProgress['phase']) => onProgress?.({ phase, done, total, rowsPerSecond: done / Math.max(0.001, (performance.now() - started) / 1000) });

      const events = await byPosition<{ entitlement_id: string; feature: string; period_start: string; quantity: number | string; user_id: string | null; device_id: string | null; counted_as: string | null; position: number | string }>(
        tx,
        p,
        'SELECT entitlement_id, feature, period_start, quantity, user_id, device_id, counted_as, position FROM mt_usage_events',
        (r) => {
          const c = at(r.entitlement_id, r.feature, r.period_start);
          const { aggregation, field } = countedAsOf(r.counted_as);
          let first = true;
          if (aggregation === 'unique_count') {
            const value = r[field] ?? '';
            c.seen ??= new Set();
            first = !c.seen.has(value);
            c.seen.add(value);
          }
          c.counter = aggregate(c.counter, aggregation, Number(r.quantity), first);
          c.position = Math.max(c.position, Number(r.position));
        },
        (n) => ((done += n), report('events')),
      );
      const corrections = await byPosition<{ entitlement_id: string; feature: string; period_start: string; quantity: number | string; position: number | string }>(
        tx,
        p,
        'SELECT entitlement_id, feature, period_start, quantity, position FROM mt_corrections',
        (r) => {
          // A correction moves the value; it is not a usage event (the count stays).
          const c = at(r.entitlement_id, r.feature, r.period_start);
          c.counter = { value: c.counter.value + Number(r.quantity), events: c.counter.events };
          c.position = Math.max(c.position, Number(r.position));
        },
        (n) => ((done += n), report('corrections')),
      );

      report('write');
      await tx.query('DELETE FROM mt_counters');
      const all = [...counters.values()];
      await insertRows(tx, p, 'mt_counters (entitlement_id, feature, period_start, value, events, position)', all.map((r) => [r.entitlementId, r.feature, r.periodStart, r.counter.value, r.counter.events, r.position]));
      await tx.query('DELETE FROM mt_unique_values');
      await insertRows(tx, p, 'mt_unique_values (entitlement_id, feature, period_start, value)', all.flatMap((c) => [...(c.seen ?? [])].map((value) => [c.entitlementId, c.feature, c.periodStart, value])));
      const result = { events, corrections, counters: counters.size, seconds: (performance.now() - started) / 1000 };
      report('done');
      return result;
    }),
  );
}

/** Reads `select`'s rows in position order, a page at a time; answers how many there were. */
async function byPosition<R extends { position: number | string }>(tx: EntityManager, p: (n: number) => string, select: string, onRow: (r: R) => void, onPage: (rows: number) => void): Promise<number> {
  let total = 0;
  for (let after = 0; ; ) {
    const page: R[] = await tx.query(`${select} WHERE position > ${p(1)} ORDER BY position LIMIT ${PAGE}`, [after]);
    for (const r of page) {
      onRow(r);
      after = Number(r.position);
    }
    total += page.length;
    onPage(page.length);
    if (page.length < PAGE) return total;
  }
}

