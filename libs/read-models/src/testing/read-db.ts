import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { SqliteEventStore } from '@el/event-store';
import type { TestReadDb } from '@el/testing';
import { openReadModels, type ReadDbConfig } from '../data-source';
import { PROJECTED_TABLES } from '../projector/tables';
import { quote } from '../projector/sql';

export function readDbConfigOf(db: TestReadDb): ReadDbConfig {
  return db.kind === 'sqlite' ? { kind: 'sqlite', path: db.path } : { kind: 'postgres', url: db.url, poolSize: 5 };
}

export async function openTestReadModels(db: TestReadDb): Promise<DataSource> {
  return openReadModels(readDbConfigOf(db));
}

export function tempEventStore(): { store: SqliteEventStore; path: string; cleanup(): Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'el-rm-events-'));
  const path = join(dir, 'events.db');
  const store = SqliteEventStore.open({ path });
  return { store, path, cleanup: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
}

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
