import type * as EsdbClient from '@eventstore/db-client';
import type { AllStreamResolvedEvent, AllStreamSubscription, JSONType, ResolvedEvent } from '@eventstore/db-client';
import { CatchUpTurns, catchUpSubscription } from '../catch-up-subscription';
import {
  EventIdConflictError,
  type AppendOptions,
  type AppendResult,
  type BatchHandler,
  type CheckpointStore,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
} from '../event-store.port';
import { CHECKPOINT_STREAM_PREFIX, isSystemEvent, isTransient, toEsdbExpectedRevision, toEsdbPosition, toPortPosition, toPortRevision, toRecordedEvent, toWrongExpectedRevision } from './esdb-mapping';

/**
 * The client library, loaded when the first EsdbEventStore is made: a process on the SQLite
 * store never loads it (nor gRPC), which keeps its start short.
 */
let client: typeof EsdbClient | null = null;
function esdb(): typeof EsdbClient {
  return (client ??= require('@eventstore/db-client') as typeof EsdbClient);
}

export interface EsdbEventStoreOptions {
  /** e.g. `esdb://localhost:2113?tls=false` */
  readonly url: string;
  /** How many of a stream's newest events an append looks through for its event ids (idempotent retries). Default 200. */
  readonly idempotencyWindow?: number;
  /** Retries of a call that failed with UNAVAILABLE (the server restarting); default 8, backoff from 100 ms to 5 s. */
  readonly retries?: number;
  /** How long a live subscription waits before polling $all anyway; default 1000 ms. */
  readonly pollIntervalMs?: number;
  readonly onRetry?: (what: string, attempt: number, error: unknown) => void;
}

/**
 * The EventStore port on EventStoreDB (gRPC, @eventstore/db-client 6).
 *
 * - Positions are EventStoreDB commit positions (byte offsets: increasing, not dense).
 * - Idempotency by event id: EventStoreDB has no index by event id, so an append first
 *   looks through the stream's newest `idempotencyWindow` events (one bounded read) and,
 *   on a concurrency conflict, through the whole stream. A retried append is found there
 *   and answered with its original result. An id reused in another stream is not detected.
 * - subscribeAll pages through $all (system events excluded) from the checkpoint and, at the
 *   head, waits on a live filtered `subscribeToAll` that only signals new events — the same
 *   "read everything after the last handled position" loop as the SQLite adapter, so the
 *   hand-over from catch-up to live has no gap and no duplicate.
 * - Calls that fail with UNAVAILABLE (gRPC code 14) are retried with backoff; appends can be,
 *   because they are idempotent by event id.
 * - Every readStream/readAll is iterated to its end (an un-iterated read crashes the process).
 */
export class EsdbEventStore implements EventStore {
  readonly densePositions = false;
  private readonly client: EsdbClient.EventStoreDBClient;
  private readonly window: number;
  private readonly retries: number;
  private readonly pollMs: number;
  private closed = false;
  private live: AllStreamSubscription | null = null;
  private liveHead = 0;
  /** Its subscriptions take turns while they catch up (see CatchUpTurns). */
  private readonly turns = new CatchUpTurns();
  private readonly waiters = new Set<() => void>();
  private liveRetry: NodeJS.Timeout | null = null;
  private readonly trimmed = new Set<string>();

  /**
   * Checkpoints as streams `el-checkpoint-<id>` whose newest event holds the
   * position (older ones are dropped by `$maxCount`), hidden from readAll,
   * subscribeAll and headPosition like EventStoreDB's own events.
   */
  readonly checkpoints: CheckpointStore = {
    load: async (id) => {
      const [newest] = await this.read(CHECKPOINT_STREAM_PREFIX + id, { direction: esdb().BACKWARDS, fromRevision: esdb().END, maxCount: 1 });
      const position = (newest?.data as { position?: unknown } | undefined)?.position;
      return typeof position === 'number' ? position : 0;
    },
    save: async (id, position) => {
      const stream = CHECKPOINT_STREAM_PREFIX + id;
      await this.transient(`checkpoint ${id}`, () => this.client.appendToStream(stream, esdb().jsonEvent({ type: 'CheckpointStored', data: { position } })));
      if (!this.trimmed.has(stream)) {
        await this.transient(`checkpoint ${id}`, () => this.client.setStreamMetadata(stream, { maxCount: 10 }));
        this.trimmed.add(stream);
      }
    },
  };

  constructor(private readonly options: EsdbEventStoreOptions) {
    this.client = esdb().EventStoreDBClient.connectionString(options.url);
    this.window = options.idempotencyWindow ?? 200;
    this.retries = options.retries ?? 8;
    this.pollMs = options.pollIntervalMs ?? 1000;
  }

  async append(stream: string, events: readonly EventToAppend[], options: AppendOptions = {}): Promise<AppendResult> {
    if (events.length === 0) throw new Error(`append to ${stream}: no events`);
    // Retried whole: after an UNAVAILABLE the append may have happened, and the retry then finds it by id.
    return this.transient(`append ${stream}`, () => this.appendOnce(stream, events, options.expectedRevision ?? 'any'));
  }

  private async appendOnce(stream: string, events: readonly EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    const ids = events.map((e) => e.id);
    const recent = await this.findAppended(stream, ids, this.window);
    if (recent) return recent;
    try {
      const result = await this.client.appendToStream(
        stream,
        events.map((e) => esdb().jsonEvent({ id: e.id, type: e.type, data: e.data as JSONType, metadata: e.metadata as JSONType })),
        { expectedRevision: toEsdbExpectedRevision(expected) },
      );
      if (!result.position) throw new Error(`EventStoreDB did not return the position of the append to ${stream}: the server must be 22.6 or newer`);
      return { revision: toPortRevision(result.nextExpectedRevision), position: toPortPosition(result.position), duplicate: false };
    } catch (err) {
      if (err instanceof esdb().WrongExpectedVersionError) {
        // A retry of an append that already happened conflicts too: look through the whole stream.
        const earlier = await this.findAppended(stream, ids, Number.MAX_SAFE_INTEGER);
        if (earlier) return earlier;
        throw toWrongExpectedRevision(stream, expected, err);
      }
      throw err;
    }
  }

  /**
   * The original result if the stream's newest `window` events hold the first id:
   * the ids must then follow one another exactly, else they collide with other events.
   */
  private async findAppended(stream: string, ids: readonly string[], window: number): Promise<AppendResult | null> {
    const newestFirst = await this.read(stream, { direction: esdb().BACKWARDS, fromRevision: esdb().END, maxCount: window });
    const at = newestFirst.findIndex((e) => e.id === ids[0]);
    if (at < 0) {
      const elsewhere = newestFirst.find((e) => ids.includes(e.id));
      if (elsewhere) throw new EventIdConflictError(stream, elsewhere.id, `is stored at revision ${elsewhere.revision} but is not the first event of this append`);
      return null;
    }
    const stored = newestFirst.slice(0, at + 1).reverse(); // oldest first, from the first id on
    for (let i = 0; i < ids.length; i++) {
      if (stored[i]?.id !== ids[i]) throw new EventIdConflictError(stream, ids[0]!, `is stored at revision ${stored[0]!.revision} with different events after it`);
    }
    const last = stored[ids.length - 1]!;
    return { revision: last.revision, position: last.position, duplicate: true };
  }

  async revisionOf(stream: string, id: string): Promise<number | null> {
    const newestFirst = await this.read(stream, { direction: esdb().BACKWARDS, fromRevision: esdb().END, maxCount: this.window });
    return newestFirst.find((e) => e.id === id)?.revision ?? null;
  }

  readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    return this.read(stream, { direction: esdb().FORWARDS, fromRevision: options.fromRevision === undefined ? esdb().START : BigInt(options.fromRevision), maxCount: options.maxCount ?? Number.MAX_SAFE_INTEGER });
  }

  private read(stream: string, o: { direction: typeof EsdbClient.FORWARDS | typeof EsdbClient.BACKWARDS; fromRevision: bigint | typeof EsdbClient.START | typeof EsdbClient.END; maxCount: number }): Promise<RecordedEvent[]> {
    return this.transient(`read ${stream}`, async () => {
      const out: RecordedEvent[] = [];
      try {
        // Iterated at once and to the end: an un-iterated read's error would crash the process.
        for await (const resolved of this.client.readStream(stream, { direction: o.direction, fromRevision: o.fromRevision, maxCount: o.maxCount })) {
          const e = (resolved as ResolvedEvent).event;
          if (e) out.push(toRecordedEvent(e));
        }
      } catch (err) {
        if (err instanceof esdb().StreamNotFoundError) return [];
        throw err;
      }
      return out;
    });
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const after = options.after ?? 0;
    const maxCount = options.maxCount ?? 1000;
    const out: RecordedEvent[] = [];
    let from = after;
    // System events are skipped; keep reading until the page has events of ours or $all ends.
    for (;;) {
      let raw = 0;
      let lastRaw = from;
      const page = await this.transient('readAll', async () => {
        const got: AllStreamResolvedEvent[] = [];
        for await (const r of this.client.readAll({ fromPosition: from === 0 ? esdb().START : toEsdbPosition(from), maxCount: maxCount + 1, direction: esdb().FORWARDS })) got.push(r);
        return got;
      });
      for (const r of page) {
        const e = r.event;
        if (!e) continue;
        if (e.position.commit !== e.position.prepare) {
          // Only explicit (legacy TCP) transactions separate them; the port's single position cannot address such events.
          throw new Error(`EventStoreDB event ${e.streamId}@${e.revision} has commit position ${e.position.commit} != prepare position ${e.position.prepare}: events written in explicit transactions are not supported`);
        }
        const position = toPortPosition(e.position);
        if (position <= from) continue; // reads are inclusive of fromPosition
        raw++;
        lastRaw = position;
        if (isSystemEvent(e)) continue;
        out.push(toRecordedEvent(e));
        if (out.length === maxCount) return out;
      }
      if (raw === 0 || out.length > 0) return out;
      from = lastRaw;
    }
  }

  subscribeAll(handler: BatchHandler, options: SubscribeOptions = {}): Subscription {
    this.ensureLive();
    return catchUpSubscription({ readAll: (o) => this.readAll(o), headPosition: () => this.headPosition(), turns: this.turns, waitForAppend: (position, signal) => this.waitForAppend(position, signal) }, handler, options);
  }

  async headPosition(): Promise<number> {
    return this.transient('head', async () => {
      for await (const r of this.client.readAll({ fromPosition: esdb().END, direction: esdb().BACKWARDS, maxCount: 100 })) {
        if (r.event && !isSystemEvent(r.event)) return toPortPosition(r.event.position);
      }
      // The newest 100 records were all system events: walk $all forward instead.
      let head = 0;
      for (let page = await this.readAll({ after: 0 }); page.length > 0; page = await this.readAll({ after: head })) head = page[page.length - 1]!.position;
      return head;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.liveRetry) clearTimeout(this.liveRetry);
    for (const wake of this.waiters) wake();
    await this.live?.unsubscribe().catch(() => undefined);
    await this.client.dispose();
  }

  /** One live, filtered subscription per store; it only wakes the catch-up loops. Reconnects when dropped. */
  private ensureLive(): void {
    if (this.live || this.closed) return;
    const sub = this.client.subscribeToAll({ fromPosition: esdb().END, filter: esdb().excludeSystemEvents() });
    this.live = sub;
    sub.on('data', (r: AllStreamResolvedEvent) => {
      if (r.event) this.liveHead = Math.max(this.liveHead, toPortPosition(r.event.position));
      for (const wake of this.waiters) wake();
    });
    const restart = (err?: unknown) => {
      if (this.live !== sub) return;
      this.live = null;
      if (this.closed) return;
      if (err) this.options.onRetry?.('subscribeToAll', 1, err);
      this.liveRetry = setTimeout(() => this.ensureLive(), 1000);
    };
    sub.on('error', restart);
    sub.on('end', () => restart());
  }

  private waitForAppend(position: number, signal: AbortSignal): Promise<void> {
    if (this.liveHead > position || signal.aborted || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.pollMs);
      signal.addEventListener('abort', done, { once: true });
      this.waiters.add(done);
    });
  }

  private async transient<T>(what: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        if (!isTransient(err) || attempt > this.retries || this.closed) throw err;
        this.options.onRetry?.(what, attempt, err);
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** (attempt - 1))));
      }
    }
  }
}

