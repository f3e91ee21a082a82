import type { DataSource } from 'typeorm';
import { upcastEvent } from '@el/domain';
import type { RecordedEvent } from '@el/event-store';
import { CustomerSummaryEntity, DeviceActivationEntity, EntitlementEntity, SeatAssignmentEntity } from '../schema/entities';
import type { EntitlementRow } from '../schema/rows';
import { childrenChanged, customerSummary, deviceActivationsOf, entitlementProjection, seatAssignmentsOf } from '../projections/entitlement.projection';
import { PROJECTIONS } from '../projections';
import type { ProjectedEvent, Projection } from '../projections/projection';
import { RowCodec, SqlWriter } from './sql';
import type { TableSet } from './tables';

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

export function toProjected(r: RecordedEvent): ProjectedEvent {
  const e = upcastEvent({ type: r.type, data: r.data, metadata: r.metadata });
  return { type: e.type, data: e.data, metadata: e.metadata as ProjectedEvent['metadata'], stream: r.stream, revision: r.revision, position: r.position };
}

/**
 * Applies a batch of events to a table set inside the caller's transaction:
 * loads the rows the batch touches, evolves them in event order (skipping
 * revisions a row has already seen), writes the changed rows, rewrites the
 * seats and devices of entitlements whose seats or devices changed, and
 * recomputes the summaries of the customers involved.
 */
export async function applyBatch(sql: SqlWriter, codecs: ProjectionCodecs, tables: TableSet, events: readonly RecordedEvent[]): Promise<BatchStats> {
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
  let entitlementChanges: { before: EntitlementRow | null; after: EntitlementRow | null }[] = [];

  for (const [projection, list] of byProjection) {
    const codec = codecs.byProjection.get(projection)!;
    const table = tables.name(codec.table);
    const keyColumn = codec.primary[0]!.column;
    const keys = [...new Set(list.map((e) => projection.keyOf(e)))];
    const existing = await sql.selectByKeys(codec, table, keyColumn, keys);
    const before = new Map<string, any>(existing.map((row) => [codec.keyOf(row), row]));
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
    const upserts = [...changed].map((k) => current.get(k)).filter((r) => r !== null && r !== undefined);
    const deletes = [...changed].filter((k) => current.get(k) === null);
    await sql.upsert(codec, table, upserts);
    await sql.deleteByKeys(table, keyColumn, deletes);
    rowsWritten += upserts.length + deletes.length;
    if (projection === entitlementProjection) {
      entitlementChanges = [...changed].map((k) => ({ before: before.get(k) ?? null, after: current.get(k) ?? null }));
    }
  }

  if (entitlementChanges.length > 0) rowsWritten += await writeDerived(sql, codecs, tables, entitlementChanges);
  return { events: events.length, applied, rowsWritten };
}

async function writeDerived(sql: SqlWriter, codecs: ProjectionCodecs, tables: TableSet, changes: { before: EntitlementRow | null; after: EntitlementRow | null }[]): Promise<number> {
  let written = 0;
  const rewritten = changes.filter((c) => childrenChanged(c.before, c.after));
  if (rewritten.length > 0) {
    const ids = rewritten.map((c) => (c.after ?? c.before)!.entitlementId);
    const seatsTable = tables.name(codecs.seats.table);
    const devicesTable = tables.name(codecs.devices.table);
    await sql.deleteByKeys(seatsTable, 'entitlement_id', ids);
    await sql.deleteByKeys(devicesTable, 'entitlement_id', ids);
    const seats = rewritten.flatMap((c) => (c.after ? seatAssignmentsOf(c.after) : []));
    const devices = rewritten.flatMap((c) => (c.after ? deviceActivationsOf(c.after) : []));
    await sql.upsert(codecs.seats, seatsTable, seats);
    await sql.upsert(codecs.devices, devicesTable, devices);
    written += seats.length + devices.length;
  }

  const customers = [...new Set(changes.map((c) => (c.after ?? c.before)!.customerId))];
  const rows = await sql.selectColumnsByKeys(tables.name(codecs.entitlements.table), ['customer_id', 'status', 'seats', 'seats_assigned', 'product_id', 'last_position'], 'customer_id', customers);
  const byCustomer = new Map<string, Parameters<typeof customerSummary>[1][number][]>();
  for (const r of rows) {
    const id = r['customer_id'] as string;
    let list = byCustomer.get(id);
    if (!list) byCustomer.set(id, (list = []));
    list.push({ status: r['status'] as EntitlementRow['status'], seats: Number(r['seats']), seatsAssigned: Number(r['seats_assigned']), productId: r['product_id'] as string, lastPosition: Number(r['last_position']) });
  }
  const summaries = customers.map((c) => customerSummary(c, byCustomer.get(c) ?? []));
  await sql.upsert(codecs.summaries, tables.name(codecs.summaries.table), summaries);
  return written + summaries.length;
}
