/**
 * The peers of our SQLite event store in bench:store, behind one small
 * interface so every scenario runs the same rows through each of them, with
 * the same durability (WAL, synchronous=FULL: every commit fsynced):
 *  - ours: SqliteEventStore (group commit, expected-revision checks);
 *  - emmett: @event-driven-io/emmett-sqlite's event store, on one connection
 *    (its default opens a connection per call, and concurrent calls then fail
 *    with SQLITE_BUSY);
 *  - raw better-sqlite3: the same events table, each append one transaction of
 *    plain INSERTs, appends queued and committed one after another — the floor
 *    of a store without group commit.
 */
import Database from 'better-sqlite3';
import { getSQLiteEventStore, sqliteConnection } from '@event-driven-io/emmett-sqlite';
import { SqliteEventStore, type EventToAppend } from '@el/event-store';

export interface PeerStore {
  readonly name: string;
  /** Appends to `stream`; `isNew`: the stream must not exist yet (an optimistic check where the store has one). */
  append(stream: string, events: readonly EventToAppend[], isNew: boolean): Promise<void>;
  close(): Promise<void>;
}

export function ours(path: string): PeerStore {
  const store = SqliteEventStore.open({ path, synchronous: 'FULL' });
  if (store.settings().synchronous !== 'FULL' || store.settings().journalMode !== 'wal') throw new Error(`ours: not WAL + FULL: ${JSON.stringify(store.settings())}`);
  return {
    name: 'ours (`SqliteEventStore`)',
    append: async (stream, events, isNew) => void (await store.append(stream, events, { expectedRevision: isNew ? 'no_stream' : 'any' })),
    close: () => store.close(),
  };
}

export async function emmett(path: string, version: string): Promise<PeerStore> {
  // emmett sets journal_mode=WAL on every connection it opens; synchronous is set here, and checked.
  const connection = sqliteConnection({ fileName: path });
  await connection.command('PRAGMA synchronous = FULL');
  const [mode] = await connection.query<{ journal_mode: string }>('PRAGMA journal_mode');
  const [sync] = await connection.query<{ synchronous: number }>('PRAGMA synchronous');
  if (mode?.journal_mode !== 'wal' || sync?.synchronous !== 2) throw new Error(`emmett: not WAL + FULL: ${JSON.stringify({ mode, sync })}`);
  const store = getSQLiteEventStore({ fileName: path, connectionOptions: { connection, singleton: true } });
  await store.schema.migrate();
  return {
    name: `emmett-sqlite ${version}`,
    append: async (stream, events, isNew) =>
      void (await store.appendToStream(
        stream,
        events.map((e) => ({ type: e.type, data: e.data as Record<string, unknown>, metadata: e.metadata })),
        isNew ? { expectedStreamVersion: 'STREAM_DOES_NOT_EXIST' } : {},
      )),
    close: async () => connection.close(),
  };
}

export function raw(path: string): PeerStore {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  // The same table as ours (libs/event-store/src/sqlite/sqlite-event-store.ts).
  db.exec(`CREATE TABLE IF NOT EXISTS events (
    position INTEGER PRIMARY KEY, stream TEXT NOT NULL, revision INTEGER NOT NULL, id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL, recorded_at TEXT NOT NULL, UNIQUE (stream, revision))`);
  const insert = db.prepare('INSERT INTO events (stream, revision, id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const revisions = new Map<string, number>();
  const commit = db.transaction((stream: string, events: readonly EventToAppend[]) => {
    let revision = revisions.get(stream) ?? -1;
    const at = new Date().toISOString();
    for (const e of events) insert.run(stream, ++revision, e.id, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata), at);
    revisions.set(stream, revision);
  });
  // Concurrent appends wait their turn: one transaction (one fsync) each, in arrival order.
  const queue: { stream: string; events: readonly EventToAppend[]; done: (err?: unknown) => void }[] = [];
  let draining = false;
  const drain = () => {
    const next = queue.shift();
    if (!next) {
      draining = false;
      return;
    }
    try {
      commit.immediate(next.stream, next.events);
      next.done();
    } catch (err) {
      next.done(err);
    }
    setImmediate(drain);
  };
  return {
    name: 'raw better-sqlite3 (one transaction per append)',
    append: (stream, events) =>
      new Promise<void>((resolve, reject) => {
        queue.push({ stream, events, done: (err) => (err ? reject(err) : resolve()) });
        if (!draining) {
          draining = true;
          setImmediate(drain);
        }
      }),
    close: async () => void db.close(),
  };
}
