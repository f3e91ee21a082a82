import { Inject, Injectable, Optional } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { usageAlertV1, usageEventSchemaV1, type UsageAlertV1, type UsageEventV1, type UsageResultV1 } from '@el/contracts';
import { UsageAlerts } from './usage-alerts';
import { Clock, compileSchema, type KeyedSerializer, seesCustomer, type FieldError, type Principal } from '@el/platform';
import { MeterRegistry } from '../meters/meter-registry';
import type { Catalog, MeterSpec } from '@el/domain';
import { hintForCap } from '@el/domain';
import { METERING_CATALOG, METERING_CONFIG, METERING_DB, type MeteringConfig } from '../metering.config';
import { UsageCounters } from './usage-counters';
import { storeWrites } from '../store/store-writes';
import { ClosedPeriods } from '../periods/closed-periods';
import { usagePayloadHash } from './usage-fingerprint';

const validEvent = compileSchema(usageEventSchemaV1);

/** A source or id echoed back as sent, but never longer than a valid one could be (a refused 100 KB id is not answered in full). */
const echo = (v: unknown): string | null => (typeof v === 'string' ? (v.length > 256 ? `${v.slice(0, 256)}…` : v) : null);

/** A usage event that passed every rule, ready to be recorded. */
interface Counted {
  readonly index: number;
  readonly e: UsageEventV1;
  readonly hash: string;
  readonly entitlementId: string;
  readonly periodStart: string;
  readonly meter: MeterSpec;
  /** The event's time in UTC (ISO-8601 with Z): stored so, windows and ranges are prefixes and string order. */
  readonly utc: string;
}

/** How an event of this meter is counted, as stored with it (rebuilds read it back). */
export function countedAs(meter: Pick<MeterSpec, 'aggregation' | 'of'>): string {
  const a = meter.aggregation ?? 'sum';
  return a === 'unique_count' ? `unique_count:${meter.of ?? 'userId'}` : a;
}

/** What one batch does to one counter (entitlement, meter, period). */
interface CounterChange {
  readonly entitlementId: string;
  readonly feature: string;
  readonly periodStart: string;
  readonly meter: MeterSpec;
  /** sum: the quantities; count: the events; max: the highest quantity; unique_count: the values not seen before (known after their insert). */
  amount: number;
  events: number;
  position: number;
  /** unique_count: the batch's values of the counted field. */
  readonly values: Set<string>;
}

/**
 * Usage ingestion with exactly one effect per (source, id): a batch is checked
 * event by event (schema, customer, feature, time window), then recorded in one
 * transaction — the raw events (their primary key is the dedupe key), the usage
 * positions they take, and the counters of their entitlement, meter and period.
 * A redelivered event with the same payload is a duplicate (nothing changes);
 * the same (source, id) with another payload is refused. Only after the commit
 * do the in-memory counters move, so a check never sees usage that could still
 * be rolled back.
 */
@Injectable()
export class UsageLedger {
  // Shared with corrections, closes and rebuilds of the same store (one SQLite writer per process).
  private get writes(): KeyedSerializer {
    return storeWrites(this.db);
  }

  constructor(
    @Inject(METERING_DB) private readonly db: DataSource,
    @Inject(METERING_CONFIG) private readonly config: MeteringConfig,
    private readonly registry: MeterRegistry,
    private readonly counters: UsageCounters,
    private readonly clock: Clock,
    private readonly alerts: UsageAlerts,
    @Inject(METERING_CATALOG) private readonly catalog: Catalog,
    // Usage in a closed period is refused (optional: a ledger without a closer, e.g. a benchmark, has none).
    @Optional() private readonly closed?: ClosedPeriods,
  ) {}

  private readonly observers: ((results: readonly UsageResultV1[]) => void)[] = [];

  /** Told every ingest's results (metrics); never inside its transaction. */
  onResults(observer: (results: readonly UsageResultV1[]) => void): void {
    this.observers.push(observer);
  }

  /** Thresholds already recorded, per counter: each is tried once per process (the table's key makes it once overall). */
  private readonly raised = new Set<string>();

  /** How many ingests are worth running at once: PostgreSQL overlaps one's checks with another's commit; SQLite has one writer. */
  get parallelIngests(): number {
    return this.postgres ? 2 : 1;
  }

  private get postgres(): boolean {
    return this.db.options.type === 'postgres';
  }

  /** Loads the counters into memory (at start). */
  async load(): Promise<void> {
    const rows: { entitlement_id: string; feature: string; period_start: string; value: number | string; position: number | string }[] = await this.db.query('SELECT entitlement_id, feature, period_start, value, position FROM mt_counters');
    for (const r of rows) this.counters.set(r.entitlement_id, r.feature, r.period_start, Number(r.value), Number(r.position));
  }

  /** Records a batch; `reporter`, when given, may only report for the customers it sees (others answer as unknown). */
  async ingest(events: readonly unknown[], reporter?: Principal): Promise<UsageResultV1[]> {
    const now = this.clock.nowMs();
    const results: UsageResultV1[] = new Array(events.length);
    const counted: Counted[] = [];
    events.forEach((raw, index) => {
      const ident = { source: echo((raw as UsageEventV1)?.source), id: echo((raw as UsageEventV1)?.id) };
      const problems: FieldError[] = validEvent(raw);
      if (problems.length > 0) {
        results[index] = { ...ident, status: 'rejected', code: 'VALIDATION_FAILED', reason: problems[0]!.message, errors: problems.map((p) => ({ path: `events[${index}].${p.path}`, message: p.message })) };
        return;
      }
      const e = raw as UsageEventV1;
      const at = Date.parse(e.time);
      // RFC 3339 allows a leap second (23:59:60) that no clock here can name.
      if (Number.isNaN(at)) {
        results[index] = { ...ident, status: 'rejected', code: 'VALIDATION_FAILED', reason: `time ${e.time} is not an instant this service can represent`, errors: [{ path: `events[${index}].time`, message: 'must be a date-time with seconds 00–59 (no leap second)' }] };
        return;
      }
      if (at > now + this.config.USAGE_MAX_FUTURE_SECONDS * 1000) {
        results[index] = { ...ident, status: 'rejected', code: 'USAGE.TIME_IN_FUTURE', reason: `time ${e.time} is more than ${this.config.USAGE_MAX_FUTURE_SECONDS} s ahead of the metering clock` };
        return;
      }
      if (at < now - this.config.USAGE_LATENESS_HOURS * 3_600_000) {
        results[index] = { ...ident, status: 'rejected', code: 'USAGE.TOO_LATE', reason: `time ${e.time} is older than the lateness window (USAGE_LATENESS_HOURS = ${this.config.USAGE_LATENESS_HOURS})` };
        return;
      }
      const r = reporter && !seesCustomer(reporter, e.subject) ? ({ refused: 'USAGE.UNKNOWN_CUSTOMER', reason: `customer ${e.subject} has no entitlement` } as const) : this.registry.resolve(e.subject, e.data.feature, e.data.entitlementId);
      if ('refused' in r) {
        results[index] = { ...ident, status: 'rejected', code: r.refused, reason: r.reason };
        return;
      }
      const { entitlement, meter } = r;
      if (at < Date.parse(entitlement.validFrom)) {
        results[index] = { ...ident, status: 'rejected', code: 'USAGE.BEFORE_ENTITLEMENT', reason: `time ${e.time} is before entitlement ${entitlement.entitlementId} starts (${entitlement.validFrom})` };
        return;
      }
      if (entitlement.endsAt !== null && at >= Date.parse(entitlement.endsAt)) {
        results[index] = { ...ident, status: 'rejected', code: 'USAGE.ENTITLEMENT_ENDED', reason: `time ${e.time} is after entitlement ${entitlement.entitlementId} ended (${entitlement.status === 'revoked' ? 'revoked' : 'term and grace over'} at ${entitlement.endsAt})` };
        return;
      }
      if (meter.aggregation === 'unique_count' && e.data[meter.of ?? 'userId'] === undefined) {
        results[index] = { ...ident, status: 'rejected', code: 'USAGE.MISSING_FIELD', reason: `${e.data.feature} counts distinct data.${meter.of}; this event has none` };
        return;
      }
      const hash = usagePayloadHash(e, new Date(at).toISOString());
      const periodStart = this.registry.periodOf(entitlement, meter.period, at).start;
      const closed = this.closed?.refusal(entitlement.entitlementId, e.data.feature, periodStart);
      if (closed) return void (results[index] = { ...ident, status: 'rejected', ...closed });
      counted.push({ index, e, hash, entitlementId: entitlement.entitlementId, periodStart, meter, utc: new Date(at).toISOString() });
    });
    // SQLite has one writer: this process's batches commit one after another (PostgreSQL runs them side by side).
    if (counted.length > 0) await (this.postgres ? this.record(counted, results) : this.writes.run('usage', () => this.record(counted, results)));
    for (const o of this.observers) o(results);
    return results;
  }

  private async record(batch: readonly Counted[], results: UsageResultV1[]): Promise<void> {
    const receivedAt = new Date(this.clock.nowMs()).toISOString();
    const alerts: UsageAlertV1[] = [];
    const tried: string[] = [];
    const moved = await this.db.transaction(async (tx) => {
      // One effect per (source, id), also within the batch: the first occurrence is the event, the others compare with it.
      const firsts = new Map<string, Counted>();
      for (const c of batch) if (!firsts.has(`${c.e.source}\u0000${c.e.id}`)) firsts.set(`${c.e.source}\u0000${c.e.id}`, c);
      const unique = [...firsts.values()];
      const start = await this.takePositions(tx, unique.length);
      const inserted = await this.insertEvents(tx, unique, start, receivedAt);
      // Recorded before (by an earlier request, or by another process a moment ago): the stored payload decides.
      const stored = await this.storedOf(tx, unique.filter((c) => !inserted.has(c)));
      const changes = new Map<string, CounterChange>();
      for (const c of batch) {
        const k = `${c.e.source}\u0000${c.e.id}`;
        const first = firsts.get(k)!;
        const own = c === first ? inserted.get(c) : undefined;
        if (own !== undefined) {
          results[c.index] = { source: c.e.source, id: c.e.id, status: 'accepted', position: own, entitlementId: c.entitlementId };
          const ck = `${c.entitlementId}\u0000${c.e.data.feature}\u0000${c.periodStart}`;
          let ch = changes.get(ck);
          if (!ch) changes.set(ck, (ch = { entitlementId: c.entitlementId, feature: c.e.data.feature, periodStart: c.periodStart, meter: c.meter, amount: 0, events: 0, position: 0, values: new Set() }));
          ch.events += 1;
          ch.position = Math.max(ch.position, own);
          switch (c.meter.aggregation ?? 'sum') {
            case 'sum':
              ch.amount += c.e.data.quantity;
              break;
            case 'count':
              ch.amount += 1;
              break;
            case 'max':
              ch.amount = Math.max(ch.amount, c.e.data.quantity);
              break;
            case 'unique_count':
              ch.values.add(c.e.data[c.meter.of ?? 'userId']!);
              break;
          }
          continue;
        }
        const reference = inserted.has(first) ? { hash: first.hash, position: inserted.get(first)!, entitlementId: first.entitlementId } : stored.get(k);
        if (reference && reference.hash === c.hash) results[c.index] = { source: c.e.source, id: c.e.id, status: 'duplicate', position: reference.position, entitlementId: reference.entitlementId };
        else results[c.index] = { source: c.e.source, id: c.e.id, status: 'rejected', code: 'USAGE.ID_REUSED', reason: `(${c.e.source}, ${c.e.id}) was already reported with another payload; usage events never change (send a correction instead)` };
      }
      await this.countNewValues(tx, [...changes.values()].filter((ch) => ch.values.size > 0));
      return this.addToCounters(tx, [...changes.values()], alerts, tried);
    });
    // Only after the commit: a rolled-back attempt is tried again by the next change.
    if (this.raised.size + tried.length > 200_000) this.raised.clear();
    for (const k of tried) this.raised.add(k);
    for (const m of moved) this.counters.set(m.entitlementId, m.feature, m.periodStart, m.value, m.position);
    if (alerts.length > 0) await this.alerts.publish(alerts);
  }

  /**
   * Thresholds of the cap the counter has reached: each recorded once per
   * period (the table's key), with the plan or add-on that lifts the cap.
   * Whether this change crossed it or an earlier one did not matter: the
   * insert is a no-op for an alert already there, so MAX meters and
   * concurrent writers need no "value before".
   */
  private async raiseAlerts(tx: EntityManager, d: CounterChange, value: number, out: UsageAlertV1[], tried: string[]): Promise<void> {
    const e = this.registry.get(d.entitlementId);
    const meter = e?.meters[d.feature];
    if (!e || !meter) return;
    for (const percent of this.config.USAGE_ALERT_THRESHOLDS.map(Number)) {
      const key = `${d.entitlementId}\u0000${d.feature}\u0000${d.periodStart}\u0000${percent}`;
      if (value < (meter.cap * percent) / 100 || this.raised.has(key)) continue;
      tried.push(key);
      const raisedAt = new Date(this.clock.nowMs()).toISOString();
      const upgradeHint = hintForCap(this.catalog, e, d.feature, meter.cap);
      const p = this.postgres ? Array.from({ length: 11 }, (_, i) => `$${i + 1}`) : Array.from({ length: 11 }, () => '?');
      const inserted: unknown[] = await tx.query(
        `INSERT INTO mt_alerts (entitlement_id, feature, period_start, threshold, customer_id, cap, used, cap_type, position, raised_at, upgrade_hint) VALUES (${p.join(', ')}) ON CONFLICT DO NOTHING RETURNING threshold`,
        [d.entitlementId, d.feature, d.periodStart, percent, e.customerId, meter.cap, value, meter.capType, d.position, raisedAt, upgradeHint ? JSON.stringify(upgradeHint) : null],
      );
      if (inserted.length > 0) out.push(usageAlertV1({ customerId: e.customerId, entitlementId: d.entitlementId, feature: d.feature, periodStart: d.periodStart, threshold: percent, cap: meter.cap, capType: meter.capType, used: value, position: d.position, raisedAt, upgradeHint }));
    }
  }

  /** UNIQUE_COUNT meters: records the batch's values; a counter grows by the values no event brought before. */
  private async countNewValues(tx: EntityManager, changes: readonly CounterChange[]): Promise<void> {
    const rows = changes.flatMap((ch) => [...ch.values].map((value) => ({ ch, value })));
    for (let offset = 0; offset < rows.length; offset += 200) {
      const chunk = rows.slice(offset, offset + 200);
      const params: unknown[] = [];
      const values = chunk.map(({ ch, value }) => `(${[ch.entitlementId, ch.feature, ch.periodStart, value].map((v) => (params.push(v), this.postgres ? `$${params.length}` : '?')).join(', ')})`);
      const returned: { entitlement_id: string; feature: string; period_start: string }[] = await tx.query(
        `INSERT INTO mt_unique_values (entitlement_id, feature, period_start, value) VALUES ${values.join(', ')} ON CONFLICT DO NOTHING RETURNING entitlement_id, feature, period_start`,
        params,
      );
      const byKey = new Map(changes.map((ch) => [`${ch.entitlementId}\u0000${ch.feature}\u0000${ch.periodStart}`, ch]));
      for (const r of returned) byKey.get(`${r.entitlement_id}\u0000${r.feature}\u0000${r.period_start}`)!.amount += 1;
    }
  }

  private async takePositions(tx: EntityManager, n: number): Promise<number> {
    const rows: { value: number | string }[] = await tx.query(`UPDATE mt_positions SET value = value + ${this.postgres ? '$1' : '?'} WHERE name = 'usage' RETURNING value`, [n]);
    // On PostgreSQL the driver answers [rows, count] for UPDATE … RETURNING through TypeORM.
    const row = Array.isArray(rows[0]) ? (rows[0] as unknown as { value: number | string }[])[0] : rows[0];
    return Number(row!.value) - n + 1;
  }

  /** Inserts the events that are new; answers the position each inserted one took. */
  private async insertEvents(tx: EntityManager, events: readonly Counted[], start: number, receivedAt: string): Promise<Map<Counted, number>> {
    const cols = ['source', 'id', 'payload_hash', 'customer_id', 'entitlement_id', 'feature', 'quantity', 'user_id', 'device_id', 'event_time', 'period_start', 'position', 'received_at', 'counted_as'];
    const out = new Map<Counted, number>();
    if (this.postgres) {
      // One constant statement for the whole batch, a column per array: PostgreSQL parses and plans it in no time,
      // where a VALUES list of 500 rows × 13 parameters is planned afresh every time.
      const returned: { source: string; id: string; position: number | string }[] = await tx.query(
        `INSERT INTO mt_usage_events (${cols.join(', ')})
         SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[], $6::varchar[], $7::float8[], $8::varchar[], $9::varchar[], $10::varchar[], $11::varchar[], $12::bigint[], $13::varchar[], $14::varchar[])
         ON CONFLICT (source, id) DO NOTHING RETURNING source, id, position`,
        [
          events.map((c) => c.e.source),
          events.map((c) => c.e.id),
          events.map((c) => c.hash),
          events.map((c) => c.e.subject),
          events.map((c) => c.entitlementId),
          events.map((c) => c.e.data.feature),
          events.map((c) => c.e.data.quantity),
          events.map((c) => c.e.data.userId ?? null),
          events.map((c) => c.e.data.deviceId ?? null),
          events.map((c) => c.utc),
          events.map((c) => c.periodStart),
          events.map((_, i) => start + i),
          events.map(() => receivedAt),
          events.map((c) => countedAs(c.meter)),
        ],
      );
      const byKey = new Map(events.map((c) => [`${c.e.source}\u0000${c.e.id}`, c]));
      for (const r of returned) out.set(byKey.get(`${r.source}\u0000${r.id}`)!, Number(r.position));
      return out;
    }
    for (let offset = 0; offset < events.length; offset += 500) {
      const chunk = events.slice(offset, offset + 500);
      const params: unknown[] = [];
      const rows = chunk.map((c, i) => {
        const values = [c.e.source, c.e.id, c.hash, c.e.subject, c.entitlementId, c.e.data.feature, c.e.data.quantity, c.e.data.userId ?? null, c.e.data.deviceId ?? null, c.utc, c.periodStart, start + offset + i, receivedAt, countedAs(c.meter)];
        return `(${values.map((v) => (params.push(v), this.postgres ? `$${params.length}` : '?')).join(', ')})`;
      });
      const returned: { source: string; id: string; position: number | string }[] = await tx.query(`INSERT INTO mt_usage_events (${cols.join(', ')}) VALUES ${rows.join(', ')} ON CONFLICT (source, id) DO NOTHING RETURNING source, id, position`, params);
      const byKey = new Map(chunk.map((c) => [`${c.e.source}\u0000${c.e.id}`, c]));
      for (const r of returned) out.set(byKey.get(`${r.source}\u0000${r.id}`)!, Number(r.position));
    }
    return out;
  }

  /**
   * The stored dedupe rows of these events. One lookup by the primary key per chunk: on PostgreSQL a join with
   * the keys as two arrays (a constant statement; an OR of hundreds of key pairs costs more to plan than to run),
   * on SQLite a row-value IN list.
   */
  private async storedOf(tx: EntityManager, events: readonly Counted[]): Promise<Map<string, { hash: string; position: number; entitlementId: string }>> {
    const out = new Map<string, { hash: string; position: number; entitlementId: string }>();
    for (let offset = 0; offset < events.length; offset += 400) {
      const chunk = events.slice(offset, offset + 400);
      const rows: { source: string; id: string; payload_hash: string; position: number | string; entitlement_id: string }[] = this.postgres
        ? await tx.query(
            'SELECT u.source, u.id, u.payload_hash, u.position, u.entitlement_id FROM mt_usage_events u JOIN unnest($1::varchar[], $2::varchar[]) AS k(source, id) ON u.source = k.source AND u.id = k.id',
            [chunk.map((c) => c.e.source), chunk.map((c) => c.e.id)],
          )
        : await tx.query(`SELECT source, id, payload_hash, position, entitlement_id FROM mt_usage_events WHERE (source, id) IN (VALUES ${chunk.map(() => '(?, ?)').join(', ')})`, chunk.flatMap((c) => [c.e.source, c.e.id]));
      for (const r of rows) out.set(`${r.source}\u0000${r.id}`, { hash: r.payload_hash, position: Number(r.position), entitlementId: r.entitlement_id });
    }
    return out;
  }

  /** Moves the counters: added to (sum, count, unique_count) or raised to (max), one multi-row upsert per kind and 500 counters. */
  private async addToCounters(tx: EntityManager, changes: readonly CounterChange[], alerts: UsageAlertV1[], tried: string[]) {
    const out: { entitlementId: string; feature: string; periodStart: string; value: number; position: number }[] = [];
    const highest = (col: string) => `CASE WHEN excluded.${col} > mt_counters.${col} THEN excluded.${col} ELSE mt_counters.${col} END`;
    for (const kind of ['add', 'max'] as const) {
      const ofKind = changes.filter((ch) => (ch.meter.aggregation === 'max') === (kind === 'max'));
      for (let offset = 0; offset < ofKind.length; offset += 500) {
        const chunk = ofKind.slice(offset, offset + 500);
        const params: unknown[] = [];
        const rows = chunk.map((d) => `(${[d.entitlementId, d.feature, d.periodStart, d.amount, d.events, d.position].map((v) => (params.push(v), this.postgres ? `$${params.length}` : '?')).join(', ')})`);
        const returned: { entitlement_id: string; feature: string; period_start: string; value: number | string; position: number | string }[] = await tx.query(
          `INSERT INTO mt_counters (entitlement_id, feature, period_start, value, events, position) VALUES ${rows.join(', ')}
           ON CONFLICT (entitlement_id, feature, period_start) DO UPDATE SET value = ${kind === 'max' ? highest('value') : 'mt_counters.value + excluded.value'}, events = mt_counters.events + excluded.events,
             position = ${highest('position')}
           RETURNING entitlement_id, feature, period_start, value, position`,
          params,
        );
        const byKey = new Map(chunk.map((d) => [`${d.entitlementId}\u0000${d.feature}\u0000${d.periodStart}`, d]));
        for (const r of returned) {
          const d = byKey.get(`${r.entitlement_id}\u0000${r.feature}\u0000${r.period_start}`)!;
          const value = Number(r.value);
          out.push({ entitlementId: d.entitlementId, feature: d.feature, periodStart: d.periodStart, value, position: Number(r.position) });
          await this.raiseAlerts(tx, d, value, alerts, tried);
        }
      }
    }
    return out;
  }
}
