import type BetterSqlite3 from 'better-sqlite3';
import type { DataSource, EntitySchema, QueryRunner } from 'typeorm';

export type Dialect = 'postgres' | 'sqlite';

export function dialectOf(ds: DataSource): Dialect {
  return ds.options.type === 'postgres' ? 'postgres' : 'sqlite';
}

export const quote = (identifier: string): string => `"${identifier.replace(/"/g, '""')}"`;

interface ColumnCodec {
  readonly property: string;
  readonly column: string;
  readonly json: boolean;
  readonly numeric: boolean;
  readonly primary: boolean;
  /** PostgreSQL type of the column in a json_to_recordset row definition. */
  readonly pgType: string;
}

/**
 * Reads and writes rows of one entity with plain SQL that PostgreSQL and
 * SQLite both accept (multi-row INSERT … ON CONFLICT DO UPDATE, IN lists),
 * into any table of that shape — the live table or its rebuild shadow.
 */
export class RowCodec<Row> {
  readonly columns: readonly ColumnCodec[];
  readonly primary: readonly ColumnCodec[];
  readonly table: string;

  constructor(ds: DataSource, entity: EntitySchema<Row>) {
    const meta = ds.getMetadata(entity);
    this.table = meta.tableName;
    this.columns = meta.columns.map((c) => ({
      property: c.propertyName,
      column: c.databaseName,
      json: c.type === 'simple-json',
      numeric: c.type === 'bigint',
      primary: c.isPrimary,
      pgType: c.type === 'integer' ? 'int4' : c.type === 'bigint' ? 'int8' : 'text',
    }));
    this.primary = this.columns.filter((c) => c.primary);
  }

  fromRaw(raw: Record<string, unknown>): Row {
    const row: Record<string, unknown> = {};
    for (const c of this.columns) {
      const v = raw[c.column];
      row[c.property] = v === null || v === undefined ? null : c.json ? JSON.parse(v as string) : c.numeric ? Number(v) : v;
    }
    return row as Row;
  }

  params(row: Row): unknown[] {
    return this.columns.map((c) => this.value(row, c));
  }

  value(row: Row, c: ColumnCodec): unknown {
    const v = (row as Record<string, unknown>)[c.property];
    return v === null || v === undefined ? null : c.json ? JSON.stringify(v) : v;
  }

  keyOf(row: Row): string {
    return this.primary.map((c) => String((row as Record<string, unknown>)[c.property])).join('\u0000');
  }
}

/** Placeholder list for `n` parameters starting at 1-based `from`. */
function placeholders(d: Dialect, from: number, n: number): string {
  return Array.from({ length: n }, (_, i) => (d === 'postgres' ? `$${from + i}` : '?')).join(', ');
}

/**
 * Prepared statements per SQLite connection. On SQLite the writer runs its
 * statements on the connection TypeORM holds (so inside the same transaction),
 * without TypeORM's per-query path: TypeORM prepares every statement anew for
 * each query runner (one per batch), and a multi-row INSERT differs with its
 * row count, so every batch parsed and planned its statements again. Here one
 * statement per table and shape is prepared once and run per row.
 */
const sqliteStatements = new WeakMap<BetterSqlite3.Database, Map<string, BetterSqlite3.Statement>>();

function sqliteConnectionOf(qr: QueryRunner): BetterSqlite3.Database {
  const db = (qr.connection.driver as unknown as { databaseConnection?: BetterSqlite3.Database }).databaseConnection;
  if (!db) throw new Error('the SQLite read database is not connected');
  return db;
}

/** better-sqlite3 binds no booleans (TypeORM turns them into 0/1 too). */
const bindable = (v: unknown): unknown => (typeof v === 'boolean' ? (v ? 1 : 0) : v);

export class SqlWriter {
  private readonly sqlite: BetterSqlite3.Database | null;
  constructor(
    private readonly qr: QueryRunner,
    readonly dialect: Dialect,
  ) {
    this.sqlite = dialect === 'sqlite' ? sqliteConnectionOf(qr) : null;
  }

  /** A statement prepared once per connection (SQLite). */
  private prepared(sql: string): BetterSqlite3.Statement {
    const db = this.sqlite!;
    let cache = sqliteStatements.get(db);
    if (!cache) sqliteStatements.set(db, (cache = new Map()));
    let stmt = cache.get(sql);
    if (!stmt) {
      // Each rebuild names its shadow tables anew: forget the statements of old ones.
      if (cache.size >= 256) cache.clear();
      cache.set(sql, (stmt = db.prepare(sql)));
    }
    return stmt;
  }

  /** `column IN (…)`: one array parameter on PostgreSQL, a placeholder list on SQLite. */
  private inList(column: string, keys: readonly string[]): { sql: string; params: unknown[] } {
    return this.dialect === 'postgres'
      ? { sql: `${quote(column)} = ANY($1::text[])`, params: [keys] }
      : { sql: `${quote(column)} IN (${placeholders(this.dialect, 1, keys.length)})`, params: [...keys] };
  }

  async selectByKeys<Row>(codec: RowCodec<Row>, table: string, keyColumn: string, keys: readonly string[]): Promise<Row[]> {
    if (keys.length === 0) return [];
    if (this.sqlite) {
      // One statement whatever the number of keys: the keys travel as one JSON array.
      const rows = this.prepared(`SELECT * FROM ${quote(table)} WHERE ${quote(keyColumn)} IN (SELECT value FROM json_each(?))`).all(JSON.stringify(keys)) as Record<string, unknown>[];
      return rows.map((raw) => codec.fromRaw(raw));
    }
    const out: Row[] = [];
    for (let i = 0; i < keys.length; i += 1000) {
      const chunk = keys.slice(i, i + 1000);
      const where = this.inList(keyColumn, chunk);
      const rows = (await this.qr.query(`SELECT * FROM ${quote(table)} WHERE ${where.sql}`, where.params)) as Record<string, unknown>[];
      for (const raw of rows) out.push(codec.fromRaw(raw));
    }
    return out;
  }

  async selectColumnsByKeys(table: string, columns: readonly string[], keyColumn: string, keys: readonly string[]): Promise<Record<string, unknown>[]> {
    if (keys.length === 0) return [];
    if (this.sqlite) {
      return this.prepared(`SELECT ${columns.map(quote).join(', ')} FROM ${quote(table)} WHERE ${quote(keyColumn)} IN (SELECT value FROM json_each(?))`).all(JSON.stringify(keys)) as Record<string, unknown>[];
    }
    const out: Record<string, unknown>[] = [];
    for (let i = 0; i < keys.length; i += 1000) {
      const chunk = keys.slice(i, i + 1000);
      const where = this.inList(keyColumn, chunk);
      out.push(...((await this.qr.query(`SELECT ${columns.map(quote).join(', ')} FROM ${quote(table)} WHERE ${where.sql}`, where.params)) as Record<string, unknown>[]));
    }
    return out;
  }

  async upsert<Row>(codec: RowCodec<Row>, table: string, rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return;
    const cols = codec.columns;
    const conflictTarget = codec.primary.map((c) => quote(c.column)).join(', ');
    const updateSet = cols.filter((c) => !c.primary).map((c) => `${quote(c.column)} = excluded.${quote(c.column)}`).join(', ');
    if (this.dialect === 'postgres') {
      // The rows travel as one JSON document (one native stringify here, parsed
      // in C by PostgreSQL): a statement of constant size whatever the row count.
      const recordType = cols.map((c) => `${quote(c.column)} ${c.pgType}`).join(', ');
      for (let i = 0; i < rows.length; i += 5000) {
        const chunk = rows.slice(i, i + 5000).map((row) => {
          const o: Record<string, unknown> = {};
          for (const c of cols) o[c.column] = codec.value(row, c);
          return o;
        });
        await this.qr.query(
          `INSERT INTO ${quote(table)} (${cols.map((c) => quote(c.column)).join(', ')}) SELECT ${cols.map((c) => `r.${quote(c.column)}`).join(', ')} FROM json_to_recordset($1::json) AS r(${recordType}) ON CONFLICT (${conflictTarget}) DO ${updateSet ? `UPDATE SET ${updateSet}` : 'NOTHING'}`,
          [JSON.stringify(chunk)],
        );
      }
      return;
    }
    const insert = this.prepared(
      `INSERT INTO ${quote(table)} (${cols.map((c) => quote(c.column)).join(', ')}) VALUES (${placeholders(this.dialect, 1, cols.length)}) ON CONFLICT (${conflictTarget}) DO ${updateSet ? `UPDATE SET ${updateSet}` : 'NOTHING'}`,
    );
    const params: unknown[] = new Array(cols.length);
    for (const row of rows) {
      for (let c = 0; c < cols.length; c++) params[c] = bindable(codec.value(row, cols[c]!));
      insert.run(params);
    }
  }

  async deleteByKeys(table: string, keyColumn: string, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    if (this.sqlite) {
      this.prepared(`DELETE FROM ${quote(table)} WHERE ${quote(keyColumn)} IN (SELECT value FROM json_each(?))`).run(JSON.stringify(keys));
      return;
    }
    for (let i = 0; i < keys.length; i += 1000) {
      const chunk = keys.slice(i, i + 1000);
      const where = this.inList(keyColumn, chunk);
      await this.qr.query(`DELETE FROM ${quote(table)} WHERE ${where.sql}`, where.params);
    }
  }
}

/**
 * Runs `fn` in a write transaction. SQLite takes the write lock up front
 * (BEGIN IMMEDIATE) so two writers queue instead of failing on a lock upgrade.
 */
export async function inWriteTransaction<T>(ds: DataSource, fn: (qr: QueryRunner, dialect: Dialect) => Promise<T>): Promise<T> {
  const dialect = dialectOf(ds);
  const qr = ds.createQueryRunner();
  await qr.connect();
  try {
    await qr.query(dialect === 'sqlite' ? 'BEGIN IMMEDIATE' : 'BEGIN');
    let result: T;
    try {
      result = await fn(qr, dialect);
    } catch (err) {
      await qr.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    await qr.query('COMMIT');
    return result;
  } finally {
    await qr.release();
  }
}
