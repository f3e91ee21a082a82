import type { DataSource } from 'typeorm';
import { quote } from './sql';
import { PROJECTED_TABLES } from './tables';

/** Every projected table's rows, ordered by primary key, JSON decoded: for comparing two read databases. */
export async function dumpReadModels(ds: DataSource): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of PROJECTED_TABLES) {
    const meta = ds.entityMetadatas.find((m) => m.tableName === table)!;
    const order = meta.primaryColumns.map((c) => quote(c.databaseName)).join(', ');
    const rows = (await ds.query(`SELECT * FROM ${quote(table)} ORDER BY ${order}`)) as Record<string, unknown>[];
    out[table] = rows.map((r) => {
      const o: Record<string, unknown> = {};
      for (const c of meta.columns) {
        const v = r[c.databaseName];
        o[c.databaseName] = v === null || v === undefined ? null : c.type === 'simple-json' ? JSON.parse(String(v)) : c.type === 'bigint' || c.type === 'integer' ? Number(v) : v;
      }
      return o;
    });
  }
  return out;
}
