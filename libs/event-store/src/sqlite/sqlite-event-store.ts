import Database from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CatchUpTurns, catchUpSubscription } from '../catch-up-subscription';
import {
  EventIdConflictError,
  WrongExpectedRevisionError,
  type AppendOptions,
  type AppendResult,
  type BatchHandler,
  type CheckpointStore,
  type EventStore,
  type EventToAppend,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
} from '../event-store.port';
import { BUSY_TIMEOUT_MS, createBatchWriter, openWriterConnection, type WireError, type WireResult, type WireWrite } from './sqlite-writer.cjs';

export type SqliteSynchronous = 'FULL' | 'NORMAL' | 'OFF';

export interface FlushStats {
  readonly appends: number;
  readonly events: number;
  /** Subscription checkpoints committed in the same transaction. */
  readonly checkpoints: number;
  readonly durationMs: number;
}

export interface SqliteEventStoreOptions {
  /** File path, or ':memory:' for tests that need no durability. */
  readonly path: string;
  /** FULL (default) fsyncs every commit: a committed append survives power loss. */
  readonly synchronous?: SqliteSynchronous;
  /**
   * `inline` (default) commits on the caller's thread. `worker` commits on a
   * writer thread, so the event loop is free during fsync; it adds a thread hop
   * per batch (measured: no throughput gain for the ledger, higher latency for
   * lone appends — see README benchmarks). ':memory:' is always inline.
   */
  readonly writer?: 'worker' | 'inline';
  /** How often subscriptions look for appends made by other processes. Default 25 ms. */
  readonly pollIntervalMs?: number;
  /** Most appends committed in one transaction. Default 1024. */
  readonly maxBatch?: number;
  /** Called after each group commit, e.g. to record metrics. */
  readonly onFlush?: (stats: FlushStats) => void;
  /**
   * How long a commit waits for another process's write lock before its
   * appends fail (inline writer; default the busy timeout, 10 s). The wait
   * does not block the event loop.
   */
  readonly lockWaitMs?: number;
}

interface PendingWrite {
  readonly wire: WireWrite;
  readonly resolve: (r: AppendResult) => void;
  readonly reject: (e: unknown) => void;
}

interface BatchCommitter {
  commit(batch: readonly WireWrite[]): Promise<{ results: WireResult[]; durationMs: number }>;
  close(): Promise<void>;
}

type Row = [position: number, stream: string, revision: number, id: string, type: string, data: string, metadata: string, recordedAt: string];

const SCHEMA_VERSION = 2;
const COLUMNS = 'position, stream, revision, id, type, data, metadata, recorded_at';

/**
 * Embedded event store on one SQLite file (WAL). Writers are serialised by
 * SQLite, so global positions are dense and in commit order, and a reader
 * that asks for `position > last` can never skip an event — also across
 * processes sharing the file.
 *
 * Group commit: appends queue while a commit is in flight and then commit
 * together in one transaction (one fsync). Each append is checked before it
 * writes, so a conflict fails only that append.
 */
export class SqliteEventStore implements EventStore {
  readonly densePositions = true;
  private readonly db: Database.Database;
  private readonly committer: BatchCommitter;
  private readonly appended = new EventEmitter();
  /** Its subscriptions take turns while they catch up (see CatchUpTurns). */
  private readonly turns = new CatchUpTurns();
  private readonly queue: PendingWrite[] = [];
  /** When the writes at the head of the queue first found the file locked by another process. */
  private lockedSince: number | null = null;
  private flushScheduled = false;
  private inFlight = 0;
  private readonly maxInFlight: number;
  private closed = false;
  private failure: Error | null = null;
  private readonly pollIntervalMs: number;
  private readonly maxBatch: number;
  private readonly stmt: { head: Database.Statement; readStream: Database.Statement; readAll: Database.Statement; loadCheckpoint: Database.Statement; revisionOf: Database.Statement };
  readonly checkpoints: CheckpointStore;
  private idle: (() => void) | null = null;

  static open(options: SqliteEventStoreOptions): SqliteEventStore {
    return new SqliteEventStore(options);
  }

  private constructor(private readonly options: SqliteEventStoreOptions) {
    const memory = options.path === ':memory:';
    if (!memory) mkdirSync(dirname(options.path), { recursive: true });
    const synchronous = options.synchronous ?? 'FULL';
    this.db = openWriterConnection(Database, options.path, synchronous);
    this.migrate();
    this.pollIntervalMs = options.pollIntervalMs ?? 25;
    this.maxBatch = options.maxBatch ?? 1024;
    this.appended.setMaxListeners(0);
    this.stmt = {
      head: this.db.prepare('SELECT MAX(position) FROM events').pluck(),
      readStream: this.db.prepare(`SELECT ${COLUMNS} FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?`).raw(true),
      revisionOf: this.db.prepare('SELECT revision FROM events WHERE id = ? AND stream = ?').pluck(true),
      readAll: this.db.prepare(`SELECT ${COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?`).raw(true),
      loadCheckpoint: this.db.prepare('SELECT position FROM checkpoints WHERE subscription_id = ?').pluck(),
    };
    // Next to the log, in the same file: a checkpoint commits like an append (durable with synchronous=FULL),
    // in the group commit of the appends queued with it — one fsync for all, never on its own while appends flow.
    this.checkpoints = {
      load: async (id) => (this.stmt.loadCheckpoint.get(id) as number | undefined) ?? 0,
      save: (id, position) => this.enqueue({ checkpoint: [id, position, new Date().toISOString()] }).then(() => undefined),
    };
    const inline = memory || options.writer !== 'worker';
    this.committer = inline ? inlineCommitter(this.db) : workerCommitter(options.path, synchronous, (err) => this.fail(err));
    // With a writer thread, a second batch waits at the worker while the first
    // commits: the worker never idles and the event loop prepares the next one.
    this.maxInFlight = inline ? 1 : 2;
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new Error(`${this.options.path} was written by a newer version of the event store (schema ${version}, this one knows ${SCHEMA_VERSION})`);
    }
    if (version === SCHEMA_VERSION) return;
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS checkpoints (
        subscription_id TEXT    PRIMARY KEY,
        position        INTEGER NOT NULL,
        updated_at      TEXT    NOT NULL
      );
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
    if (events.length === 0) return Promise.reject(new RangeError(`append to ${stream}: no events`));
    let wire: WireWrite;
    try {
      wire = {
        stream,
        expected: options.expectedRevision ?? 'any',
        events: events.map((e) => [e.id, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata)] as const),
      };
    } catch (err) {
      return Promise.reject(err);
    }
    return this.enqueue(wire);
  }

  private enqueue(wire: WireWrite): Promise<AppendResult> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('event store is closed'));
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ wire, resolve, reject });
      this.schedule();
    });
  }

  private schedule(delayMs = 0): void {
    if (this.flushScheduled || this.inFlight >= this.maxInFlight) return;
    this.flushScheduled = true;
    if (delayMs > 0) setTimeout(() => void this.flush(), delayMs);
    else setImmediate(() => void this.flush());
  }

  /** Up to `maxInFlight` batches at once; the worker commits them strictly in order. */
  private async flush(): Promise<void> {
    this.flushScheduled = false;
    if (this.inFlight >= this.maxInFlight || this.queue.length === 0) return;
    this.inFlight += 1;
    const batch = this.queue.splice(0, this.maxBatch);
    let retryInMs = 0;
    try {
      const { results, durationMs } = await this.committer.commit(batch.map((p) => p.wire));
      this.lockedSince = null;
      let appends = 0;
      let events = 0;
      let checkpoints = 0;
      batch.forEach((p, i) => {
        const r = results[i]!;
        if (r.ok) {
          p.resolve({ revision: r.revision, position: r.position, duplicate: r.duplicate });
          if ('events' in p.wire) {
            appends += 1;
            if (!r.duplicate) events += p.wire.events.length;
          } else checkpoints += 1;
        } else {
          p.reject(toError(r.error));
        }
      });
      this.options.onFlush?.({ appends, events, checkpoints, durationMs });
      if (events > 0) this.appended.emit('append');
    } catch (err) {
      if (err instanceof FileLocked) {
        // Another process holds the write lock (a commit of its own, with its fsync). Nothing of the batch
        // was written: it goes back to the head of the queue and is tried again shortly; meanwhile the event
        // loop serves others and new appends join it. Only after `lockWaitMs` does it fail.
        this.lockedSince ??= performance.now();
        if (performance.now() - this.lockedSince < (this.options.lockWaitMs ?? BUSY_TIMEOUT_MS)) {
          this.queue.unshift(...batch);
          retryInMs = Math.min(20, 1 + Math.floor((performance.now() - this.lockedSince) / 10));
          return;
        }
        this.lockedSince = null;
      }
      // The commit itself failed (I/O error, lock timeout): nothing in the batch is durable.
      for (const p of batch) p.reject(err instanceof FileLocked ? err.cause : err);
    } finally {
      this.inFlight -= 1;
      if (this.queue.length > 0) this.schedule(retryInMs);
      else if (this.inFlight === 0) this.idle?.();
    }
  }

  private fail(err: Error): void {
    this.failure = new Error(`event store writer stopped: ${err.message}`);
    for (const p of this.queue.splice(0)) p.reject(this.failure);
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    return (this.stmt.readStream.all(stream, options.fromRevision ?? 0, options.maxCount ?? -1) as Row[]).map(toRecorded);
  }

  async revisionOf(stream: string, id: string): Promise<number | null> {
    return (this.stmt.revisionOf.get(id, stream) as number | undefined) ?? null;
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    return this.readAllSync(options.after ?? 0, options.maxCount ?? 1000);
  }

  /** Synchronous page read for in-process consumers. */
  readAllSync(after: number, maxCount: number): RecordedEvent[] {
    return (this.stmt.readAll.all(after, maxCount) as Row[]).map(toRecorded);
  }

  subscribeAll(handler: BatchHandler, options: SubscribeOptions = {}): Subscription {
    return catchUpSubscription(
      {
        readAll: (o) => this.readAll(o),
        headPosition: () => this.headPosition(),
        turns: this.turns,
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

  /** The durability settings in force. */
  settings(): { journalMode: string; synchronous: SqliteSynchronous; writer: 'worker' | 'inline' } {
    const sync = this.db.pragma('synchronous', { simple: true }) as number;
    return {
      journalMode: String(this.db.pragma('journal_mode', { simple: true })),
      synchronous: (['OFF', 'NORMAL', 'FULL'] as const)[sync] ?? 'FULL',
      writer: this.options.path !== ':memory:' && this.options.writer === 'worker' ? 'worker' : 'inline',
    };
  }

  /** Null while the store can write; the reason otherwise. */
  writeFailure(): string | null {
    return this.failure?.message ?? null;
  }

  async headPosition(): Promise<number> {
    return (this.stmt.head.get() as number | null) ?? 0;
  }

  /** Waits for queued appends to commit, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if ((this.queue.length > 0 || this.inFlight > 0 || this.flushScheduled) && !this.failure) {
      await new Promise<void>((resolve) => (this.idle = resolve));
    }
    this.appended.emit('append');
    await this.committer.close();
    this.db.close();
  }
}

/** The write lock is held by another connection (SQLITE_BUSY): nothing was written; try again. */
class FileLocked extends Error {
  constructor(override readonly cause: unknown) {
    super(`the event store file is locked by another process: ${(cause as Error).message}`);
  }
}

/**
 * Commits on the event loop. While it writes, the connection does not wait
 * for another process's write lock (busy_timeout 0): a locked file throws
 * FileLocked at once, and the store tries again without blocking the loop.
 * Reads keep the busy timeout.
 */
function inlineCommitter(db: Database.Database): BatchCommitter {
  const writer = createBatchWriter(db);
  return {
    async commit(batch) {
      const started = performance.now();
      db.pragma('busy_timeout = 0');
      try {
        const results = writer.write(batch);
        return { results, durationMs: performance.now() - started };
      } catch (err) {
        // A failed transaction is rolled back whole (better-sqlite3), so a busy one wrote nothing.
        if ((err as { code?: string }).code === 'SQLITE_BUSY') throw new FileLocked(err);
        throw err;
      } finally {
        db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      }
    },
    async close() {
      // The inline writer shares the store's connection, which the store closes.
    },
  };
}

function workerCommitter(path: string, synchronous: string, onCrash: (err: Error) => void): BatchCommitter {
  const worker = new Worker(join(__dirname, 'sqlite-writer.cjs'), {
    workerData: { role: 'sqlite-event-store-writer', path, synchronous, betterSqlite3: require.resolve('better-sqlite3') },
  });
  const pending = new Map<number, { resolve: (v: { results: WireResult[]; durationMs: number }) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let closing = false;
  const crash = (err: Error) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    if (!closing) onCrash(err);
  };
  worker.on('message', (msg: { id: number; results?: WireResult[]; durationMs?: number; fatal?: { message: string; code?: string } }) => {
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.fatal) p.reject(Object.assign(new Error(msg.fatal.message), { code: msg.fatal.code }));
    else p.resolve({ results: msg.results!, durationMs: msg.durationMs! });
  });
  worker.on('error', crash);
  worker.on('exit', (code) => {
    if (!closing || pending.size > 0) crash(new Error(`writer thread exited with code ${code}`));
  });
  return {
    commit(batch) {
      return new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, batch });
      });
    },
    async close() {
      closing = true;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage({ type: 'close' });
      await exited;
    },
  };
}

function toError(e: WireError): Error {
  switch (e.kind) {
    case 'wrong-expected-revision':
      return new WrongExpectedRevisionError(e.stream, e.expected, e.actual);
    case 'event-id-conflict':
      return new EventIdConflictError(e.stream, e.eventId, e.message);
    default:
      return Object.assign(new Error(e.message), { code: e.code });
  }
}

/**
 * A stored event whose JSON is decoded on first access: consumers that skip
 * events by type or stream, or forward them as they are, never pay for it.
 * Serialises (toJSON) like a plain RecordedEvent.
 */
class StoredEvent implements RecordedEvent {
  private decodedData: unknown = UNDECODED;
  private decodedMetadata: unknown = UNDECODED;

  constructor(
    readonly position: number,
    readonly stream: string,
    readonly revision: number,
    readonly id: string,
    readonly type: string,
    private readonly rawData: string,
    private readonly rawMetadata: string,
    readonly recordedAt: string,
  ) {}

  get data(): unknown {
    if (this.decodedData === UNDECODED) this.decodedData = JSON.parse(this.rawData);
    return this.decodedData;
  }

  get metadata(): Record<string, unknown> {
    if (this.decodedMetadata === UNDECODED) this.decodedMetadata = JSON.parse(this.rawMetadata);
    return this.decodedMetadata as Record<string, unknown>;
  }

  toJSON(): RecordedEvent {
    return { id: this.id, stream: this.stream, revision: this.revision, position: this.position, type: this.type, data: this.data, metadata: this.metadata, recordedAt: this.recordedAt };
  }
}
const UNDECODED = Symbol('undecoded');

function toRecorded(r: Row): RecordedEvent {
  return new StoredEvent(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
}
