import Database from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { catchUpSubscription } from '../catch-up-subscription';
import {
  checkExpectedRevision,
  EventIdConflictError,
  NO_STREAM_REVISION,
  type AppendOptions,
  type AppendResult,
  type BatchHandler,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
} from '../event-store.port';

export type SqliteSynchronous = 'FULL' | 'NORMAL' | 'OFF';

export interface FlushStats {
  readonly appends: number;
  readonly events: number;
  readonly durationMs: number;
}

export interface SqliteEventStoreOptions {
  /** File path, or ':memory:' for tests that need no durability. */
  readonly path: string;
  /** FULL (default) fsyncs every commit: a committed append survives power loss. */
  readonly synchronous?: SqliteSynchronous;
  /** How often subscriptions look for appends made by other processes. Default 25 ms. */
  readonly pollIntervalMs?: number;
  /** Most appends committed in one transaction. Default 512. */
  readonly maxBatch?: number;
  /** The store's clock, for `recordedAt`. */
  readonly now?: () => Date;
  /** Called after each group commit, e.g. to record metrics. */
  readonly onFlush?: (stats: FlushStats) => void;
}

interface PendingAppend {
  readonly stream: string;
  readonly events: readonly EventToAppend[];
  readonly expected: ExpectedRevision;
  readonly resolve: (r: AppendResult) => void;
  readonly reject: (e: unknown) => void;
  result?: AppendResult;
  error?: unknown;
}

/** Position of the last row written in the current batch, and the batch's commit time. */
interface WriteCursor {
  value: number;
  readonly recordedAt: string;
}

type Row = [position: number, stream: string, revision: number, id: string, type: string, data: string, metadata: string, recordedAt: string];

const SCHEMA_VERSION = 1;
const COLUMNS = 'position, stream, revision, id, type, data, metadata, recorded_at';

/**
 * Embedded event store on one SQLite file (WAL). Writers are serialised by
 * SQLite, so global positions are dense and in commit order, and a reader
 * that asks for `position > last` can never skip an event.
 *
 * Group commit: appends that arrive while the event loop is busy are queued
 * and committed together in one transaction with one fsync; each append is
 * checked and written in its own savepoint so a conflict fails only that one.
 */
export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly appended = new EventEmitter();
  private readonly queue: PendingAppend[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly pollIntervalMs: number;
  private readonly maxBatch: number;
  private readonly now: () => Date;

  private readonly stmt: {
    insert: Database.Statement;
    streamRevision: Database.Statement;
    head: Database.Statement;
    byId: Database.Statement;
    readStream: Database.Statement;
    readAll: Database.Statement;
  };
  private readonly writeBatch: Database.Transaction<(batch: PendingAppend[]) => void>;
  private readonly writeOne: (p: PendingAppend, head: WriteCursor) => AppendResult;

  static open(options: SqliteEventStoreOptions): SqliteEventStore {
    return new SqliteEventStore(options);
  }

  private constructor(private readonly options: SqliteEventStoreOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.db = new Database(options.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    this.db.pragma('busy_timeout = 10000');
    this.migrate();
    this.pollIntervalMs = options.pollIntervalMs ?? 25;
    this.maxBatch = options.maxBatch ?? 512;
    this.now = options.now ?? (() => new Date());
    this.appended.setMaxListeners(0);

    this.stmt = {
      insert: this.db.prepare(`INSERT INTO events (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      streamRevision: this.db.prepare('SELECT revision FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1').pluck(),
      head: this.db.prepare('SELECT MAX(position) FROM events').pluck(),
      byId: this.db.prepare('SELECT stream, revision FROM events WHERE id = ?'),
      readStream: this.db
        .prepare(`SELECT ${COLUMNS} FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?`)
        .raw(true),
      readAll: this.db.prepare(`SELECT ${COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?`).raw(true),
    };

    this.writeOne = this.db.transaction((p: PendingAppend, head: WriteCursor) => this.appendOne(p, head));
    this.writeBatch = this.db.transaction((batch: PendingAppend[]) => {
      const head: WriteCursor = { value: (this.stmt.head.get() as number | null) ?? 0, recordedAt: this.now().toISOString() };
      for (const p of batch) {
        const before = head.value;
        try {
          p.result = this.writeOne(p, head);
        } catch (err) {
          head.value = before; // the savepoint rolled back this append's rows
          p.error = translateError(err, p);
        }
      }
    });
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version >= SCHEMA_VERSION) return;
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS events (
        position    INTEGER PRIMARY KEY,
        stream      TEXT    NOT NULL,
        revision    INTEGER NOT NULL,
        id          TEXT    NOT NULL UNIQUE,
        type        TEXT    NOT NULL,
        data        TEXT    NOT NULL,
        metadata    TEXT    NOT NULL,
        recorded_at TEXT    NOT NULL,
        UNIQUE (stream, revision)
      );
      PRAGMA user_version = ${SCHEMA_VERSION};
    `);
  }

  append(stream: string, events: readonly EventToAppend[], options: AppendOptions = {}): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new Error('event store is closed'));
    if (events.length === 0) return Promise.reject(new RangeError(`append to ${stream}: no events`));
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ stream, events, expected: options.expectedRevision ?? 'any', resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flush);
      }
    });
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const batch = this.queue.splice(0, this.maxBatch);
    if (this.queue.length > 0) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
    if (batch.length === 0) return;
    const started = performance.now();
    try {
      this.writeBatch.immediate(batch);
    } catch (err) {
      // The commit itself failed (I/O error, lock timeout): nothing in the batch is durable.
      for (const p of batch) p.reject(err);
      return;
    }
    let events = 0;
    let written = false;
    for (const p of batch) {
      if (p.error !== undefined) p.reject(p.error);
      else {
        p.resolve(p.result!);
        if (!p.result!.duplicate) {
          written = true;
          events += p.events.length;
        }
      }
    }
    this.options.onFlush?.({ appends: batch.length, events, durationMs: performance.now() - started });
    if (written) this.appended.emit('append');
  };

  private appendOne(p: PendingAppend, head: WriteCursor): AppendResult {
    const first = p.events[0]!;
    const existing = this.stmt.byId.get(first.id) as { stream: string; revision: number } | undefined;
    if (existing) return this.replayedAppend(p, existing);

    const actual = (this.stmt.streamRevision.get(p.stream) as number | undefined) ?? NO_STREAM_REVISION;
    checkExpectedRevision(p.stream, p.expected, actual);
    let revision = actual;
    for (const e of p.events) {
      revision += 1;
      head.value += 1;
      this.stmt.insert.run(
        head.value,
        p.stream,
        revision,
        e.id,
        e.type,
        JSON.stringify(e.data),
        JSON.stringify(e.metadata),
        head.recordedAt,
      );
    }
    return { revision, position: head.value, duplicate: false };
  }

  /** A retry of an append that was already committed: answer with the original result. */
  private replayedAppend(p: PendingAppend, existing: { stream: string; revision: number }): AppendResult {
    const first = p.events[0]!;
    if (existing.stream !== p.stream) {
      throw new EventIdConflictError(p.stream, first.id, `is already stored in stream ${existing.stream}`);
    }
    const rows = this.stmt.readStream.all(p.stream, existing.revision, p.events.length) as Row[];
    const same = rows.length === p.events.length && rows.every((r, i) => r[3] === p.events[i]!.id);
    if (!same) {
      throw new EventIdConflictError(p.stream, first.id, 'is stored, but the append does not match the stored events');
    }
    const last = rows[rows.length - 1]!;
    return { revision: last[2], position: last[0], duplicate: true };
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const rows = this.stmt.readStream.all(stream, options.fromRevision ?? 0, options.maxCount ?? -1) as Row[];
    return rows.map(toRecorded);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const rows = this.stmt.readAll.all(options.after ?? 0, options.maxCount ?? 1000) as Row[];
    return rows.map(toRecorded);
  }

  /** Synchronous page read for in-process consumers that must not yield (projections in the same process). */
  readAllSync(after: number, maxCount: number): RecordedEvent[] {
    return (this.stmt.readAll.all(after, maxCount) as Row[]).map(toRecorded);
  }

  subscribeAll(handler: BatchHandler, options: SubscribeOptions = {}): Subscription {
    return catchUpSubscription(
      {
        readAll: (o) => this.readAll(o),
        waitForAppend: (_position, signal) =>
          new Promise<void>((resolve) => {
            if (signal.aborted || this.closed) return resolve();
            const done = () => {
              clearTimeout(timer);
              this.appended.off('append', done);
              signal.removeEventListener('abort', done);
              resolve();
            };
            const timer = setTimeout(done, this.pollIntervalMs);
            this.appended.on('append', done);
            signal.addEventListener('abort', done);
          }),
      },
      handler,
      options,
    );
  }

  /** The durability settings in force on this connection. */
  settings(): { journalMode: string; synchronous: SqliteSynchronous } {
    const sync = this.db.pragma('synchronous', { simple: true }) as number;
    return {
      journalMode: String(this.db.pragma('journal_mode', { simple: true })),
      synchronous: (['OFF', 'NORMAL', 'FULL'] as const)[sync] ?? 'FULL',
    };
  }

  async headPosition(): Promise<number> {
    return (this.stmt.head.get() as number | null) ?? 0;
  }

  /** Waits for queued appends, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.queue.length > 0 || this.flushScheduled) await new Promise((r) => setImmediate(r));
    this.closed = true;
    this.appended.emit('append');
    this.db.close();
  }
}

function toRecorded(r: Row): RecordedEvent {
  return {
    position: r[0],
    stream: r[1],
    revision: r[2],
    id: r[3],
    type: r[4],
    data: JSON.parse(r[5]),
    metadata: JSON.parse(r[6]),
    recordedAt: r[7],
  };
}

function translateError(err: unknown, p: PendingAppend): unknown {
  // An id after the first that is already stored elsewhere trips the UNIQUE index.
  if (err instanceof Error && (err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' && err.message.includes('events.id')) {
    return new EventIdConflictError(p.stream, p.events.map((e) => e.id).join(','), 'collides with an event already stored');
  }
  return err;
}
