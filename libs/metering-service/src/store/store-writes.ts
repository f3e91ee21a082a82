import type { DataSource } from 'typeorm';
import { KeyedSerializer } from '@el/platform';

const serializers = new WeakMap<DataSource, KeyedSerializer>();

/**
 * The one queue of the metering store's transactions in this process. SQLite
 * has one connection per process and one writer: two transactions open on it
 * at once would nest (the second BEGIN fails) — so ingests, corrections, closes
 * and rebuilds of one store take turns here. PostgreSQL runs them side by side
 * (`inTurn` passes straight through) and relies on its row locks.
 */
export function storeWrites(db: DataSource): KeyedSerializer {
  let s = serializers.get(db);
  if (!s) serializers.set(db, (s = new KeyedSerializer()));
  return s;
}

/** Runs `task` in the store's turn (SQLite), or at once (PostgreSQL). */
export function inTurn<T>(db: DataSource, task: () => Promise<T>): Promise<T> {
  return db.options.type === 'postgres' ? task() : storeWrites(db).run('usage', task);
}
