import type { DataSource } from 'typeorm';
import type { RecordedEvent } from '@el/event-store';
import { CustomerSummaryEntity, DeviceActivationEntity, EntitlementEntity, SeatAssignmentEntity } from '../schema/entities';
import type { EntitlementRow } from '../schema/rows';
import { childrenChanged, customerSummary, deviceActivationsOf, entitlementProjection, seatAssignmentsOf } from '../projections/entitlement.projection';
import { PROJECTIONS } from '../projections';
import type { ProjectedEvent, Projection } from '../projections/projection';
import { RowCodec, SqlWriter } from './sql';
import type { TableSet } from './tables';

/**
 * What a rebuild keeps in memory so it never reads back what it wrote: each
 * customer's entitlements in the shape summaries need. Only valid for a
 * writer that owns its tables (the rebuild's shadows).
 */
export class SummaryCache {
  readonly byCustomer = new Map<string, Map<string, Parameters<typeof customerSummary>[1][number]>>();
  /** Keys written so far, by table: a key not in here cannot exist, so it is not looked up. */
  readonly written = new Map<string, Set<string>>();
  /** When set, summaries are not written per batch: the owner writes them all at the end (see `summaries()`). */
  deferSummaries = false;

  summaries(): ReturnType<typeof customerSummary>[] {
    return [...this.byCustomer.entries()].map(([customer, entitlements]) => customerSummary(customer, [...entitlements.values()]));
  }
}

export interface BatchStats {
  readonly events: number;
  /** Events that changed a row (others were of no interest, or already applied). */
  readonly applied: number;
  readonly rowsWritten: number;
}

/** Projection codecs for a data source, built once. */
export class ProjectionCodecs {
  readonly byProjection = new Map<Projection<any>, RowCodec<any>>();
  readonly seats: RowCodec<any>;
  readonly devices: RowCodec<any>;
  readonly summaries: RowCodec<any>;
  readonly entitlements: RowCodec<EntitlementRow>;
  private readonly byType = new Map<string, Projection<any>>();

  constructor(ds: DataSource) {
    for (const p of PROJECTIONS) {
      this.byProjection.set(p, new RowCodec(ds, p.entity));
      for (const t of p.handles) this.byType.set(t, p);
    }
    this.entitlements = this.byProjection.get(entitlementProjection)! as RowCodec<EntitlementRow>;
    this.seats = new RowCodec(ds, SeatAssignmentEntity);
    this.devices = new RowCodec(ds, DeviceActivationEntity);
    this.summaries = new RowCodec(ds, CustomerSummaryEntity);
    void EntitlementEntity;
  }

  projectionFor(type: string): Projection<any> | undefined {
    return this.byType.get(type);
  }
}

/** A stored event as projections see it (the store has upcast it to its newest shape already). */
export function toProjected(r: RecordedEvent): ProjectedEvent {
  return { type: r.type, data: r.data, metadata: r.metadata as ProjectedEvent['metadata'], stream: r.stream, revision: r.revision, position: r.position };
}

/** Rows a batch writes, by table: what a pipelined rebuild overlays on reads while the batch is in flight. */
export type RowOverlay = Map<string, Map<string, unknown>>;

/** What a batch will write: computed first (planBatch), written after (writePlan). */
export interface BatchPlan {
  readonly stats: BatchStats;
  readonly upserts: { codec: RowCodec<any>; table: string; rows: unknown[] }[];
  readonly deletes: { table: string; keyColumn: string; keys: string[] }[];
  /** Rows this plan writes (null = deleted), by table and key. */
  readonly overlay: RowOverlay;
}

export interface RowReader {
  selectByKeys<Row>(codec: RowCodec<Row>, table: string, keyColumn: string, keys: readonly string[]): Promise<Row[]>;
  selectColumnsByKeys(table: string, columns: readonly string[], keyColumn: string, keys: readonly string[]): Promise<Record<string, unknown>[]>;
}

/**
 * Applies a batch of events to a table set inside the caller's transaction:
 * loads the rows the batch touches, evolves them in event order (skipping
 * revisions a row has already seen), writes the changed rows, rewrites the
 * seats and devices of entitlements whose seats or devices changed, and
 * recomputes the summaries of the customers involved.
 */
export async function applyBatch(sql: SqlWriter, codecs: ProjectionCodecs, tables: TableSet, events: readonly RecordedEvent[], cache?: SummaryCache): Promise<BatchStats> {
  const plan = await planBatch(sql, codecs, tables, events, cache);
  await writePlan(sql, plan);
  return plan.stats;
}

export async function writePlan(sql: SqlWriter, plan: BatchPlan): Promise<void> {
  // Deletes first: derived rows (seats, devices) are replaced by delete + insert.
  for (const d of plan.deletes) await sql.deleteByKeys(d.table, d.keyColumn, d.keys);
  for (const u of plan.upserts) await sql.upsert(u.codec, u.table, u.rows);
}

/**
 * Computes what a batch writes. `overlay` holds rows written by a batch still
 * in flight (not yet visible to `reader`): they are read from it, not the database.
 */
export async function planBatch(
  reader: RowReader,
  codecs: ProjectionCodecs,
  tables: TableSet,
  events: readonly RecordedEvent[],
  cache?: SummaryCache,
  overlay?: RowOverlay,
): Promise<BatchPlan> {
  const byProjection = new Map<Projection<any>, ProjectedEvent[]>();
  for (const r of events) {
    const projection = codecs.projectionFor(r.type);
    if (!projection) continue;
    let list = byProjection.get(projection);
    if (!list) byProjection.set(projection, (list = []));
    list.push(toProjected(r));
  }

  let applied = 0;
  let rowsWritten = 0;
  const upserts: BatchPlan['upserts'] = [];
  const deletes: BatchPlan['deletes'] = [];
  const written: RowOverlay = new Map();
  let entitlementChanges: { before: EntitlementRow | null; after: EntitlementRow | null }[] = [];

  for (const [projection, list] of byProjection) {
    const codec = codecs.byProjection.get(projection)!;
    const table = tables.name(codec.table);
    const keyColumn = codec.primary[0]!.column;
    const keys = [...new Set(list.map((e) => projection.keyOf(e)))];
    const before = new Map<string, any>();
    const pending = overlay?.get(table);
    const toRead: string[] = [];
    const known = cache?.written.get(table);
    for (const k of keys) {
      if (pending?.has(k)) {
        const row = pending.get(k);
        if (row !== null) before.set(k, row);
      } else if (!cache || known?.has(k)) toRead.push(k);
    }
    for (const row of await reader.selectByKeys(codec, table, keyColumn, toRead)) before.set(codec.keyOf(row), row);
    const current = new Map<string, any>(before);
    const changed = new Set<string>();
    for (const e of list) {
      const key = projection.keyOf(e);
      const row = current.get(key) ?? null;
      if (row && e.revision <= row.lastRevision) continue; // already applied: replay changes nothing
      const next = projection.evolve(row, e);
      if (next === row) continue;
      current.set(key, next);
      changed.add(key);
      applied += 1;
    }
    const rows = [...changed].map((k) => current.get(k)).filter((r) => r !== null && r !== undefined);
    const gone = [...changed].filter((k) => current.get(k) === null);
    if (rows.length) upserts.push({ codec, table, rows });
    if (gone.length) deletes.push({ table, keyColumn, keys: gone });
    written.set(table, new Map([...changed].map((k) => [k, current.get(k) ?? null])));
    if (cache) {
      let seen = cache.written.get(table);
      if (!seen) cache.written.set(table, (seen = new Set()));
      for (const k of changed) seen.add(k);
    }
    rowsWritten += rows.length + gone.length;
    if (projection === entitlementProjection) {
      entitlementChanges = [...changed].map((k) => ({ before: before.get(k) ?? null, after: current.get(k) ?? null }));
    }
  }

  if (entitlementChanges.length > 0) rowsWritten += await planDerived(reader, codecs, tables, entitlementChanges, upserts, deletes, cache);
  return { stats: { events: events.length, applied, rowsWritten }, upserts, deletes, overlay: written };
}

async function planDerived(
  reader: RowReader,
  codecs: ProjectionCodecs,
  tables: TableSet,
  changes: { before: EntitlementRow | null; after: EntitlementRow | null }[],
  upserts: BatchPlan['upserts'],
  deletes: BatchPlan['deletes'],
  cache?: SummaryCache,
): Promise<number> {
  let written = 0;
  const rewritten = changes.filter((c) => childrenChanged(c.before, c.after));
  if (rewritten.length > 0) {
    // Only an entitlement that existed before this batch can have seats or devices to remove.
    const ids = rewritten.filter((c) => c.before !== null).map((c) => c.before!.entitlementId);
    const seatsTable = tables.name(codecs.seats.table);
    const devicesTable = tables.name(codecs.devices.table);
    if (ids.length) deletes.push({ table: seatsTable, keyColumn: 'entitlement_id', keys: ids }, { table: devicesTable, keyColumn: 'entitlement_id', keys: ids });
    const seats = rewritten.flatMap((c) => (c.after ? seatAssignmentsOf(c.after) : []));
    const devices = rewritten.flatMap((c) => (c.after ? deviceActivationsOf(c.after) : []));
    if (seats.length) upserts.push({ codec: codecs.seats, table: seatsTable, rows: seats });
    if (devices.length) upserts.push({ codec: codecs.devices, table: devicesTable, rows: devices });
    written += seats.length + devices.length;
  }

  const customers = [...new Set(changes.map((c) => (c.after ?? c.before)!.customerId))];
  let byCustomer: Map<string, Parameters<typeof customerSummary>[1][number][]>;
  if (cache) {
    for (const c of changes) {
      const row = c.after ?? c.before!;
      let entitlements = cache.byCustomer.get(row.customerId);
      if (!entitlements) cache.byCustomer.set(row.customerId, (entitlements = new Map()));
      if (c.after) entitlements.set(row.entitlementId, { status: row.status, seats: row.seats, seatsAssigned: row.seatsAssigned, productId: row.productId, lastPosition: row.lastPosition });
      else entitlements.delete(row.entitlementId);
    }
    byCustomer = new Map(customers.map((c) => [c, [...(cache.byCustomer.get(c)?.values() ?? [])]]));
  } else {
    // Read back the customers' entitlement rows, with this batch's rows in place of their older versions.
    const mine = new Map(changes.map((c) => [(c.after ?? c.before)!.entitlementId, c.after]));
    const rows = await reader.selectColumnsByKeys(tables.name(codecs.entitlements.table), ['entitlement_id', 'customer_id', 'status', 'seats', 'seats_assigned', 'product_id', 'last_position'], 'customer_id', customers);
    byCustomer = new Map();
    const add = (customerId: string, e: Parameters<typeof customerSummary>[1][number]) => {
      let list = byCustomer.get(customerId);
      if (!list) byCustomer.set(customerId, (list = []));
      list.push(e);
    };
    for (const r of rows) {
      if (mine.has(r['entitlement_id'] as string)) continue;
      add(r['customer_id'] as string, { status: r['status'] as EntitlementRow['status'], seats: Number(r['seats']), seatsAssigned: Number(r['seats_assigned']), productId: r['product_id'] as string, lastPosition: Number(r['last_position']) });
    }
    for (const after of mine.values()) if (after) add(after.customerId, after);
  }
  if (cache?.deferSummaries) return written;
  const summaries = customers.map((c) => customerSummary(c, byCustomer.get(c) ?? []));
  upserts.push({ codec: codecs.summaries, table: tables.name(codecs.summaries.table), rows: summaries });
  return written + summaries.length;
}
