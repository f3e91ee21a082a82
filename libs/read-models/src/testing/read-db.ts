import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { SqliteEventStore } from '@el/event-store';
import type { TestReadDb } from '@el/testing';
import { openReadModels, type ReadDbConfig } from '../data-source';

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

export { dumpReadModels } from '../projector/dump';
