import type { DataSource, QueryRunner, Table, TableIndex } from 'typeorm';
import type { EventStore } from '@el/event-store';
import { applyBatch, planBatch, ProjectionCodecs, SummaryCache, writePlan, type RowOverlay } from './apply-batch';
import { readCheckpoint, writeCheckpoint } from './projector';
import { dialectOf, inWriteTransaction, quote, SqlWriter, type Dialect } from './sql';
import { PROJECTED_TABLES, shadowTables } from './tables';

export interface RebuildProgress {
  readonly phase: 'copy' | 'index' | 'swap' | 'done';
  readonly position: number;
  readonly head: number;
  readonly events: number;
  readonly eventsPerSecond: number;
  /** Seconds left at the current rate; null when unknown. */
  readonly etaSeconds: number | null;
}

export interface RebuildOptions {
  readonly subscriptionId: string;
  readonly batchSize?: number;
  readonly onProgress?: (p: RebuildProgress) => void;
}

export interface RebuildResult {
  readonly events: number;
  readonly position: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
}

/**
 * Rebuilds every read model from position 0 into fresh shadow tables while
 * the live ones keep serving, then swaps them in atomically:
 *  1. shadow tables are created empty (no secondary indexes yet, for speed);
 *  2. the whole log is projected into them, batch by batch;
 *  3. on PostgreSQL the indexes are built on the shadows;
 *  4. in one transaction holding the live checkpoint (the live projector
 *     waits), the shadows catch up to the head, replace the live tables, get
 *     their canonical index names, and the live checkpoint moves to the
 *     shadows' position. Readers see the old tables or the new ones, never a mix.
 * A rebuild that dies leaves the live tables untouched; the next one starts over.
 */
export async function rebuildReadModels(ds: DataSource, store: EventStore, options: RebuildOptions): Promise<RebuildResult> {
  const dialect = dialectOf(ds);
  const shadow = shadowTables();
  const codecs = new ProjectionCodecs(ds);
  const batchSize = options.batchSize ?? 2000;
  const started = performance.now();
  const liveDefs = await liveTableDefinitions(ds);

  const primaryKeys = await primaryKeyNames(ds, liveDefs);
  await createShadowTables(ds, liveDefs, shadow.suffix, primaryKeys);

  let position = 0;
  let events = 0;
  let head = await store.headPosition();
  const report = (phase: RebuildProgress['phase']) => {
    const seconds = (performance.now() - started) / 1000;
    const rate = events / Math.max(seconds, 1e-3);
    options.onProgress?.({ phase, position, head, events, eventsPerSecond: rate, etaSeconds: rate > 0 ? Math.max(0, (head - position) / rate) : null });
  };

  // 2. copy: project the log into the shadows, one transaction per batch. The
  // shadows have no secondary indexes yet and only this rebuild writes them,
  // so customer summaries are aggregated in memory instead of read back.
  const cache = new SummaryCache();
  cache.deferSummaries = true;
  let lastReport = 0;
  const progress = (page: readonly { position: number }[]) => {
    position = page[page.length - 1]!.position;
    events += page.length;
    if (position > head) head = position;
    if (performance.now() - lastReport > 250) {
      lastReport = performance.now();
      report('copy');
    }
  };
  if (dialect === 'postgres') {
    // Pipelined: batch N+1 is planned (events read, rows evolved) while batch N
    // commits on another connection; rows batch N writes are overlaid on reads.
    const readQr = ds.createQueryRunner();
    let inflight: Promise<void> | null = null;
    let overlay: RowOverlay | undefined;
    let batches = 0;
    try {
      const reader = new SqlWriter(readQr, dialect);
      for (;;) {
        // Fresh tables have no statistics; refresh them as they grow (after 1, 4, 16, … batches) so lookups use the indexes.
        if (batches > 0 && (batches & (batches - 1)) === 0 && Math.log2(batches) % 2 === 0) {
          for (const def of liveDefs) await readQr.query(`ANALYZE ${quote(def.name + shadow.suffix)}`);
        }
        batches += 1;
        const page = await store.readAll({ after: position, maxCount: batchSize });
        if (page.length === 0) break;
        const plan = await planBatch(reader, codecs, shadow, page, cache, overlay);
        if (inflight) await inflight;
        overlay = plan.overlay;
        inflight = inWriteTransaction(ds, async (qr, d) => {
          await qr.query('SET LOCAL synchronous_commit = off');
          await writePlan(new SqlWriter(qr, d), plan);
        });
        progress(page);
      }
      if (inflight) await inflight;
    } finally {
      await inflight?.catch(() => undefined);
      await readQr.release();
    }
  } else {
    for (;;) {
      const page = await store.readAll({ after: position, maxCount: batchSize });
      if (page.length === 0) break;
      await inWriteTransaction(ds, (qr, d) => applyBatch(new SqlWriter(qr, d), codecs, shadow, page, cache));
      progress(page);
    }
  }
  // Customer summaries, aggregated in memory during the copy, written once.
  cache.deferSummaries = false;
  await inWriteTransaction(ds, (qr, d) => new SqlWriter(qr, d).upsert(codecs.summaries, shadow.name(codecs.summaries.table), cache.summaries()));
  report('copy');

  // 3. secondary indexes, built while the live tables still serve; on
  // PostgreSQL the shadows, loaded without WAL, become logged (crash-safe) here.
  if (dialect === 'postgres') {
    report('index');
    const qr = ds.createQueryRunner();
    try {
      for (const def of liveDefs) {
        const table = `${def.name}${shadow.suffix}`;
        const definitions = await postgresIndexDefinitions(qr, def.name);
        for (const index of def.indices) await createIndex(qr, dialect, table, index, `${index.name}${shadow.suffix}`, definitions.get(index.name!));
        await qr.query(`ALTER TABLE ${quote(table)} SET LOGGED`);
      }
    } finally {
      await qr.release();
    }
  }

  // 4. swap, holding the live checkpoint.
  report('swap');
  await inWriteTransaction(ds, async (qr, d) => {
    await readCheckpoint(qr, d, options.subscriptionId, true);
    const sql = new SqlWriter(qr, d);
    for (;;) {
      const page = await store.readAll({ after: position, maxCount: batchSize });
      if (page.length === 0) break;
      await applyBatch(sql, codecs, shadow, page, cache);
      position = page[page.length - 1]!.position;
      events += page.length;
    }
    for (const def of liveDefs) {
      await qr.query(`DROP TABLE ${quote(def.name)}`);
      await qr.query(`ALTER TABLE ${quote(def.name + shadow.suffix)} RENAME TO ${quote(def.name)}`);
      const pk = primaryKeys.get(def.name);
      if (pk) await qr.query(`ALTER TABLE ${quote(def.name)} RENAME CONSTRAINT ${quote(pk + shadow.suffix)} TO ${quote(pk)}`);
      for (const index of def.indices) {
        if (d === 'postgres') await qr.query(`ALTER INDEX ${quote(index.name + shadow.suffix)} RENAME TO ${quote(index.name!)}`);
        else await createIndex(qr, d, def.name, index, index.name!);
      }
    }
    await writeCheckpoint(qr, d, options.subscriptionId, position, new Date());
  });
  head = Math.max(head, position);
  report('done');
  const seconds = (performance.now() - started) / 1000;
  return { events, position, seconds, eventsPerSecond: events / Math.max(seconds, 1e-3) };
}

async function liveTableDefinitions(ds: DataSource): Promise<Table[]> {
  const qr = ds.createQueryRunner();
  try {
    const tables: Table[] = [];
    for (const name of PROJECTED_TABLES) {
      const t = await qr.getTable(name);
      if (!t) throw new Error(`read model table ${name} does not exist: run the migrations first`);
      tables.push(t);
    }
    return tables;
  } finally {
    await qr.release();
  }
}

/** PostgreSQL primary-key constraint names of the live tables (they survive a rename, so they are renamed too). */
async function primaryKeyNames(ds: DataSource, defs: readonly Table[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  if (dialectOf(ds) !== 'postgres') return names;
  for (const def of defs) {
    const rows = (await ds.query(`SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'p'`, [def.name])) as { conname: string }[];
    if (rows[0]) names.set(def.name, rows[0].conname);
  }
  return names;
}

async function createShadowTables(ds: DataSource, defs: readonly Table[], suffix: string, primaryKeys: Map<string, string>): Promise<void> {
  const qr = ds.createQueryRunner();
  try {
    for (const def of defs) {
      const shadow = def.clone();
      shadow.name = `${def.name}${suffix}`;
      shadow.indices = [];
      shadow.foreignKeys = [];
      shadow.uniques = [];
      // A leftover from a rebuild that died: start over.
      await qr.dropTable(shadow.name, true);
      const pk = primaryKeys.get(def.name);
      for (const c of shadow.columns) c.primaryKeyConstraintName = c.isPrimary && pk ? `${pk}${suffix}` : undefined;
      await qr.createTable(shadow, false, false, false);
      // Bulk load without WAL; made LOGGED before the swap.
      if (dialectOf(ds) === 'postgres') await qr.query(`ALTER TABLE ${quote(shadow.name)} SET UNLOGGED`);
    }
  } finally {
    await qr.release();
  }
}

/**
 * How PostgreSQL defines each index of a live table (`pg_indexes.indexdef`).
 * TypeORM reads back an index's columns in the table's column order, not the
 * index's key order, and without their collation: rebuilt from that,
 * `rm_entitlements_customer (customer_id, granted_at, entitlement_id)` came
 * back as `(entitlement_id, customer_id, granted_at)`, which serves no
 * customer's list.
 */
async function postgresIndexDefinitions(qr: QueryRunner, table: string): Promise<Map<string, string>> {
  const rows = (await qr.query(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1`, [table])) as { indexname: string; indexdef: string }[];
  return new Map(rows.map((r) => [r.indexname, r.indexdef]));
}

/** An index of a live table on another table under another name: as PostgreSQL defined it (`USING …` of its indexdef), else on its columns. */
async function createIndex(qr: QueryRunner, _dialect: Dialect, table: string, index: TableIndex, name: string, definition?: string): Promise<void> {
  const using = definition ? / USING .+$/.exec(definition)?.[0] : undefined;
  const unique = definition?.startsWith('CREATE UNIQUE INDEX') ? 'UNIQUE ' : '';
  await qr.query(`CREATE ${unique}INDEX ${quote(name)} ON ${quote(table)}${using ?? ` (${index.columnNames.map(quote).join(', ')})`}`);
}
