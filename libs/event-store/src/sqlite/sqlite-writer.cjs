'use strict';
/**
 * The SQLite event store's write path, in plain CommonJS so the same code runs
 * inline (on the caller's thread) and in a worker thread (sqlite-event-store.ts
 * starts this file as a worker, so commits and their fsync never block the
 * event loop). It knows nothing of the port's classes: errors travel as plain
 * objects and are turned back into WrongExpectedRevisionError /
 * EventIdConflictError by the caller.
 *
 * batch:   [{ stream, expected: 'any'|'no_stream'|'stream_exists'|number, events: [[id, type, dataJson, metadataJson]] }
 *           | { checkpoint: [subscriptionId, position, updatedAt] }]
 * results: [{ ok: true, revision, position, duplicate } | { ok: false, error: { kind, ... } }]
 *
 * A checkpoint commits with the appends of its batch (one fsync for all);
 * its result is { ok: true, revision: -1, position, duplicate: false }.
 */
const { isMainThread, parentPort, workerData } = require('node:worker_threads');

const COLUMNS = 'position, stream, revision, id, type, data, metadata, recorded_at';
/** How long a statement waits for another connection's lock (another process writing) before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 10000;

class CheckFailed extends Error {
  constructor(error) {
    super(error.message);
    this.error = error;
  }
}
class InsertFailed extends Error {
  constructor(cause) {
    super(cause && cause.message ? cause.message : String(cause));
    this.cause = cause;
  }
}

function isIdCollision(err) {
  return Boolean(err && err.code === 'SQLITE_CONSTRAINT_UNIQUE' && /events\.id/.test(err.message));
}

function createBatchWriter(db) {
  const stmt = {
    insert: db.prepare(`INSERT INTO events (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    streamRevision: db.prepare('SELECT revision FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1').pluck(),
    head: db.prepare('SELECT MAX(position) FROM events').pluck(),
    byId: db.prepare('SELECT stream, revision FROM events WHERE id = ?'),
    idsFrom: db.prepare('SELECT position, revision, id FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?').raw(true),
    checkpoint: db.prepare(
      'INSERT INTO checkpoints (subscription_id, position, updated_at) VALUES (?, ?, ?) ON CONFLICT (subscription_id) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at',
    ),
  };

  function saveCheckpoint(c) {
    stmt.checkpoint.run(c.checkpoint[0], c.checkpoint[1], c.checkpoint[2]);
    return { ok: true, revision: -1, position: c.checkpoint[1], duplicate: false };
  }

  function expectedHolds(expected, actual) {
    return (
      expected === 'any' ||
      (expected === 'no_stream' && actual === -1) ||
      (expected === 'stream_exists' && actual !== -1) ||
      expected === actual
    );
  }

  /** An append whose first event id is stored already: a retry (same ids, same stream) or a conflict. */
  function replayed(a, existing) {
    const firstId = a.events[0][0];
    if (existing.stream !== a.stream) {
      throw new CheckFailed({ kind: 'event-id-conflict', stream: a.stream, eventId: firstId, message: `is already stored in stream ${existing.stream}` });
    }
    const rows = stmt.idsFrom.all(a.stream, existing.revision, a.events.length);
    const same = rows.length === a.events.length && rows.every((r, i) => r[2] === a.events[i][0]);
    if (!same) throw new CheckFailed({ kind: 'event-id-conflict', stream: a.stream, eventId: firstId, message: 'is stored, but the append does not match the stored events' });
    const last = rows[rows.length - 1];
    return { ok: true, revision: last[1], position: last[0], duplicate: true };
  }

  /**
   * Checks first (nothing is written when a check fails), then inserts. The id
   * lookup that tells a retry from a conflict only runs when needed: when the
   * expected revision does not hold, or when the first insert hits the id index.
   */
  function appendOne(a, cursor) {
    if (a.checkpoint) return saveCheckpoint(a);
    const actual = stmt.streamRevision.get(a.stream);
    const current = actual === undefined ? -1 : actual;
    if (!expectedHolds(a.expected, current)) {
      const existing = stmt.byId.get(a.events[0][0]);
      if (existing) return replayed(a, existing);
      throw new CheckFailed({ kind: 'wrong-expected-revision', stream: a.stream, expected: a.expected, actual: current, message: 'wrong expected revision' });
    }
    let revision = current;
    const start = cursor.position;
    for (let i = 0; i < a.events.length; i++) {
      const [id, type, data, metadata] = a.events[i];
      try {
        stmt.insert.run(cursor.position + 1, a.stream, revision + 1, id, type, data, metadata, cursor.recordedAt);
      } catch (err) {
        // A failed INSERT writes nothing; if it was the first one, nothing of this append is written.
        if (i === 0 && isIdCollision(err)) return replayed(a, stmt.byId.get(id));
        cursor.position = start;
        throw new InsertFailed(err);
      }
      revision += 1;
      cursor.position += 1;
    }
    return { ok: true, revision, position: cursor.position, duplicate: false };
  }

  const cursorNow = () => ({ position: stmt.head.get() || 0, recordedAt: new Date().toISOString() });

  // Fast path: no savepoints (a failed check wrote nothing). If an insert fails
  // half-way, the whole transaction is rolled back and redone with a savepoint
  // per append, so only the offending append fails.
  const fast = db.transaction((batch, results) => {
    const cursor = cursorNow();
    batch.forEach((a, i) => {
      try {
        results[i] = appendOne(a, cursor);
      } catch (err) {
        if (err instanceof CheckFailed) results[i] = { ok: false, error: err.error };
        else throw err;
      }
    });
  });
  const one = db.transaction((a, cursor) => appendOne(a, cursor));
  const safe = db.transaction((batch, results) => {
    const cursor = cursorNow();
    batch.forEach((a, i) => {
      const before = cursor.position;
      try {
        results[i] = one(a, cursor);
      } catch (err) {
        cursor.position = before;
        if (err instanceof CheckFailed) results[i] = { ok: false, error: err.error };
        else {
          const cause = err instanceof InsertFailed ? err.cause : err;
          results[i] = isIdCollision(cause)
            ? { ok: false, error: { kind: 'event-id-conflict', stream: a.stream, eventId: a.events.map((e) => e[0]).join(','), message: 'collides with an event already stored' } }
            : { ok: false, error: { kind: 'error', message: String(cause && cause.message ? cause.message : cause), code: cause && cause.code } };
        }
      }
    });
  });

  return {
    /** Commits the batch (one transaction, one fsync) and returns one result per append. */
    write(batch) {
      const results = new Array(batch.length);
      try {
        fast.immediate(batch, results);
      } catch (err) {
        if (!(err instanceof InsertFailed)) throw err;
        safe.immediate(batch, results.fill(undefined));
      }
      return results;
    },
  };
}

function openWriterConnection(Database, path, synchronous) {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  return db;
}

module.exports = { BUSY_TIMEOUT_MS, createBatchWriter, openWriterConnection };

if (!isMainThread && workerData && workerData.role === 'sqlite-event-store-writer') {
  const Database = require(workerData.betterSqlite3);
  const db = openWriterConnection(Database, workerData.path, workerData.synchronous);
  const writer = createBatchWriter(db);
  parentPort.on('message', (msg) => {
    if (msg.type === 'close') {
      db.close();
      parentPort.close();
      return;
    }
    const started = performance.now();
    try {
      const results = writer.write(msg.batch);
      parentPort.postMessage({ id: msg.id, results, durationMs: performance.now() - started });
    } catch (err) {
      parentPort.postMessage({ id: msg.id, fatal: { message: String(err && err.message ? err.message : err), code: err && err.code } });
    }
  });
}
