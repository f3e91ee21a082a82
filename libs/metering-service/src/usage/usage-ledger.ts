import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { usageAlertV1, usageEventSchemaV1, type UsageAlertV1, type UsageEventV1, type UsageResultV1 } from '@el/contracts';
import { UsageAlerts } from './usage-alerts';
import { Clock, compileSchema, KeyedSerializer, seesCustomer, type FieldError, type Principal } from '@el/platform';
import { MeterRegistry } from '../meters/meter-registry';
import { METERING_CONFIG, METERING_DB, type MeteringConfig } from '../metering.config';
import { UsageCounters } from './usage-counters';
import { usagePayloadHash } from './usage-fingerprint';

const validEvent = compileSchema(usageEventSchemaV1);

/** A usage event that passed every rule, ready to be recorded. */
interface Counted {
  readonly index: number;
  readonly e: UsageEventV1;
  readonly hash: string;
  readonly entitlementId: string;
  readonly periodStart: string;
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
  private readonly writes = new KeyedSerializer();

  constructor(
    @Inject(METERING_DB) private readonly db: DataSource,
    @Inject(METERING_CONFIG) private readonly config: MeteringConfig,
    private readonly registry: MeterRegistry,
    private readonly counters: UsageCounters,
    private readonly clock: Clock,
    private readonly alerts: UsageAlerts,
  ) {}

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
      const ident = { source: typeof (raw as UsageEventV1)?.source === 'string' ? (raw as UsageEventV1).source : null, id: typeof (raw as UsageEventV1)?.id === 'string' ? (raw as UsageEventV1).id : null };
      const problems: FieldError[] = validEvent(raw);
      if (problems.length > 0) {
        results[index] = { ...ident, status: 'rejected', code: 'VALIDATION_FAILED', reason: problems[0]!.message, errors: problems.map((p) => ({ path: `events[${index}].${p.path}`, message: p.message })) };
        return;
      }
      const e = raw as UsageEventV1;
      const at = Date.parse(e.time);
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
      const hash = usagePayloadHash(e);
      counted.push({ index, e, hash, entitlementId: entitlement.entitlementId, periodStart: this.registry.periodOf(entitlement, meter.period, at).start });
    });
    // SQLite has one writer: this process's batches commit one after another (PostgreSQL runs them side by side).
    if (counted.length > 0) await (this.postgres ? this.record(counted, results) : this.writes.run('usage', () => this.record(counted, results)));
    return results;
  }

  private async record(batch: readonly Counted[], results: UsageResultV1[]): Promise<void> {
    const receivedAt = new Date(this.clock.nowMs()).toISOString();
    const alerts: UsageAlertV1[] = [];
    const moved = await this.db.transaction(async (tx) => {
      // One effect per (source, id), also within the batch: the first occurrence is the event, the others compare with it.
      const firsts = new Map<string, Counted>();
      for (const c of batch) if (!firsts.has(`${c.e.source}\u0000${c.e.id}`)) firsts.set(`${c.e.source}\u0000${c.e.id}`, c);
      const unique = [...firsts.values()];
      const start = await this.takePositions(tx, unique.length);
      const inserted = await this.insertEvents(tx, unique, start, receivedAt);
      // Recorded before (by an earlier request, or by another process a moment ago): the stored payload decides.
      const stored = await this.storedOf(tx, unique.filter((c) => !inserted.has(c)));
      const deltas = new Map<string, { entitlementId: string; feature: string; periodStart: string; value: number; events: number; position: number }>();
      for (const c of batch) {
        const k = `${c.e.source}\u0000${c.e.id}`;
        const first = firsts.get(k)!;
        const own = c === first ? inserted.get(c) : undefined;
        if (own !== undefined) {
          results[c.index] = { source: c.e.source, id: c.e.id, status: 'accepted', position: own, entitlementId: c.entitlementId };
          const dk = `${c.entitlementId}\u0000${c.e.data.feature}\u0000${c.periodStart}`;
          const d = deltas.get(dk) ?? { entitlementId: c.entitlementId, feature: c.e.data.feature, periodStart: c.periodStart, value: 0, events: 0, position: 0 };
          deltas.set(dk, { ...d, value: d.value + c.e.data.quantity, events: d.events + 1, position: Math.max(d.position, own) });
          continue;
        }
        const reference = inserted.has(first) ? { hash: first.hash, position: inserted.get(first)!, entitlementId: first.entitlementId } : stored.get(k);
        if (reference && reference.hash === c.hash) results[c.index] = { source: c.e.source, id: c.e.id, status: 'duplicate', position: reference.position, entitlementId: reference.entitlementId };
        else results[c.index] = { source: c.e.source, id: c.e.id, status: 'rejected', code: 'USAGE.ID_REUSED', reason: `(${c.e.source}, ${c.e.id}) was already reported with another payload; usage events never change (send a correction instead)` };
      }
      return this.addToCounters(tx, [...deltas.values()], alerts);
    });
    for (const m of moved) this.counters.set(m.entitlementId, m.feature, m.periodStart, m.value, m.position);
    if (alerts.length > 0) await this.alerts.publish(alerts);
  }

  /** Thresholds of the cap this change crossed (before < threshold ≤ after): each recorded once per period. */
  private async raiseAlerts(tx: EntityManager, d: { entitlementId: string; feature: string; periodStart: string; position: number }, before: number, after: number, out: UsageAlertV1[]): Promise<void> {
    const e = this.registry.get(d.entitlementId);
    const meter = e?.meters[d.feature];
    if (!e || !meter) return;
    for (const percent of this.config.USAGE_ALERT_THRESHOLDS.map(Number)) {
      const level = (meter.cap * percent) / 100;
      if (!(before < level && after >= level)) continue;
      const raisedAt = new Date(this.clock.nowMs()).toISOString();
      const p = this.postgres ? Array.from({ length: 10 }, (_, i) => `$${i + 1}`) : Array.from({ length: 10 }, () => '?');
      const inserted: unknown[] = await tx.query(
        `INSERT INTO mt_alerts (entitlement_id, feature, period_start, threshold, customer_id, cap, used, cap_type, position, raised_at) VALUES (${p.join(', ')}) ON CONFLICT DO NOTHING RETURNING threshold`,
        [d.entitlementId, d.feature, d.periodStart, percent, e.customerId, meter.cap, after, meter.capType, d.position, raisedAt],
      );
      if (inserted.length > 0) out.push(usageAlertV1({ customerId: e.customerId, entitlementId: d.entitlementId, feature: d.feature, periodStart: d.periodStart, threshold: percent, cap: meter.cap, capType: meter.capType, used: after, position: d.position, raisedAt }));
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
    const cols = ['source', 'id', 'payload_hash', 'customer_id', 'entitlement_id', 'feature', 'quantity', 'user_id', 'device_id', 'event_time', 'period_start', 'position', 'received_at'];
    const out = new Map<Counted, number>();
    if (this.postgres) {
      // One constant statement for the whole batch, a column per array: PostgreSQL parses and plans it in no time,
      // where a VALUES list of 500 rows × 13 parameters is planned afresh every time.
      const returned: { source: string; id: string; position: number | string }[] = await tx.query(
        `INSERT INTO mt_usage_events (${cols.join(', ')})
         SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[], $6::varchar[], $7::float8[], $8::varchar[], $9::varchar[], $10::varchar[], $11::varchar[], $12::bigint[], $13::varchar[])
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
          events.map((c) => c.e.time),
          events.map((c) => c.periodStart),
          events.map((_, i) => start + i),
          events.map(() => receivedAt),
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
        const values = [c.e.source, c.e.id, c.hash, c.e.subject, c.entitlementId, c.e.data.feature, c.e.data.quantity, c.e.data.userId ?? null, c.e.data.deviceId ?? null, c.e.time, c.periodStart, start + offset + i, receivedAt];
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

  private async addToCounters(tx: EntityManager, deltas: readonly { entitlementId: string; feature: string; periodStart: string; value: number; events: number; position: number }[], alerts: UsageAlertV1[]) {
    const out: { entitlementId: string; feature: string; periodStart: string; value: number; position: number }[] = [];
    // One multi-row upsert per 500 counters (a batch of many customers touches many counters).
    for (let offset = 0; offset < deltas.length; offset += 500) {
      const chunk = deltas.slice(offset, offset + 500);
      const params: unknown[] = [];
      const rows = chunk.map((d) => `(${[d.entitlementId, d.feature, d.periodStart, d.value, d.events, d.position].map((v) => (params.push(v), this.postgres ? `$${params.length}` : '?')).join(', ')})`);
      const returned: { entitlement_id: string; feature: string; period_start: string; value: number | string; position: number | string }[] = await tx.query(
        `INSERT INTO mt_counters (entitlement_id, feature, period_start, value, events, position) VALUES ${rows.join(', ')}
         ON CONFLICT (entitlement_id, feature, period_start) DO UPDATE SET value = mt_counters.value + excluded.value, events = mt_counters.events + excluded.events,
           position = CASE WHEN excluded.position > mt_counters.position THEN excluded.position ELSE mt_counters.position END
         RETURNING entitlement_id, feature, period_start, value, position`,
        params,
      );
      const byKey = new Map(chunk.map((d) => [`${d.entitlementId}\u0000${d.feature}\u0000${d.periodStart}`, d]));
      for (const r of returned) {
        const d = byKey.get(`${r.entitlement_id}\u0000${r.feature}\u0000${r.period_start}`)!;
        const value = Number(r.value);
        out.push({ entitlementId: d.entitlementId, feature: d.feature, periodStart: d.periodStart, value, position: Number(r.position) });
        await this.raiseAlerts(tx, d, value - d.value, value, alerts);
      }
    }
    return out;
  }
}
