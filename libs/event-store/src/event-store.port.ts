/**
 * The EventStore port. Adapters: SQLite (embedded, this library) and
 * EventStoreDB (distributed). Both pass the same contract suite
 * (`@el/event-store/testing`).
 *
 * Revisions are per stream, 0-based (the first event of a stream is revision 0;
 * a missing stream has revision -1). Positions are global, strictly increasing
 * in commit order, and > 0; `after: 0` means "from the beginning". The SQLite
 * adapter's positions are also dense (1, 2, 3, ...).
 */

export type ExpectedRevision =
  /** Append whatever the stream's state. */
  | 'any'
  /** The stream must not exist yet. */
  | 'no_stream'
  /** The stream must exist. */
  | 'stream_exists'
  /** The stream's last event must have exactly this revision. */
  | number;

export const NO_STREAM_REVISION = -1;

export interface EventToAppend {
  /** Unique across the store. Appending an event whose id is already stored is a no-op (see `append`). */
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: Readonly<Record<string, unknown>>;
}

export interface RecordedEvent<TData = unknown, TMetadata = Record<string, unknown>> {
  readonly id: string;
  readonly stream: string;
  readonly revision: number;
  readonly position: number;
  readonly type: string;
  readonly data: TData;
  readonly metadata: TMetadata;
  /** When the store committed the event (the store's clock). */
  readonly recordedAt: string;
}

export interface AppendResult {
  /** Revision of the last event appended (or found, for a retried append). */
  readonly revision: number;
  /** Global position of the last event appended (or found). */
  readonly position: number;
  /** True when every event was already stored: a retry that changed nothing. */
  readonly duplicate: boolean;
}

export interface AppendOptions {
  readonly expectedRevision?: ExpectedRevision;
}

export interface ReadStreamOptions {
  readonly fromRevision?: number;
  readonly maxCount?: number;
}

export interface ReadAllOptions {
  /** Exclusive: events with a position greater than this. Default 0. */
  readonly after?: number;
  readonly maxCount?: number;
}

export type BatchHandler = (events: readonly RecordedEvent[]) => void | Promise<void>;

export interface SubscribeOptions {
  /** Exclusive start position (typically a stored checkpoint). Default 0. */
  readonly after?: number;
  /** Most events handed to the handler at once. Default 500. */
  readonly batchSize?: number;
  /**
   * Who reads first while subscriptions of the same log in this process catch up (CatchUpTurns):
   * `deferred`, in its own catch-up, waits while a `normal` one is catching up (the meter feed in
   * embedded mode: the readers that make the process ready go first); `background` always waits
   * while a `normal` or a `deferred` one is (the audit log's feed). Default `normal`.
   */
  readonly priority?: 'normal' | 'deferred' | 'background';
}

export interface Subscription {
  /** Resolves when stopped; rejects with a `SubscriptionError` if the handler threw. */
  readonly done: Promise<void>;
  /** Position of the last event the handler finished. */
  position(): number;
  /** Stops after the batch in progress; resolves when the handler is no longer called. */
  stop(): Promise<void>;
}

/** Where a subscription to the log stands: the last position it handled (0 when it never ran). */
export interface CheckpointStore {
  load(subscriptionId: string): Promise<number>;
  save(subscriptionId: string, position: number): Promise<void>;
}

export interface EventStore {
  /**
   * Checkpoints kept with the log itself, for subscriptions whose progress
   * belongs to the store rather than to a read model: the Kafka relay (the
   * outbox's progress) and the in-process bus's consumer groups. Dropping or
   * rebuilding the read models never moves them. They are not events: they
   * never appear in `readAll`, `subscribeAll` or `headPosition`.
   */
  readonly checkpoints: CheckpointStore;
  /**
   * True when positions are 1, 2, 3, … with no holes (SQLite), so `head - position` counts events;
   * EventStoreDB's positions are log offsets in bytes.
   */
  readonly densePositions: boolean;
  /**
   * Appends atomically. Idempotent by event id: if the first event's id is
   * already stored and the stored stream holds exactly these ids from there,
   * nothing is written and the original result is returned with
   * `duplicate: true` (whatever the expected revision). Throws
   * `WrongExpectedRevisionError` on a concurrency conflict and
   * `EventIdConflictError` when ids collide with different events.
   */
  append(stream: string, events: readonly EventToAppend[], options?: AppendOptions): Promise<AppendResult>;
  /** Events of one stream in revision order; `[]` for a stream that does not exist. */
  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /**
   * The revision at which the event `id` is stored in `stream`, or null. A command loaded from a
   * snapshot reads only the events after it; this finds what a retried command wrote before it.
   * SQLite looks the id up in the whole stream; EventStoreDB within its idempotency window (the
   * stream's newest events, as an append does).
   */
  revisionOf(stream: string, id: string): Promise<number | null>;
  /** A page of the global log in position order. */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /** Catch-up subscription to the global log: history first, then live, in order, without gaps or duplicates. */
  subscribeAll(handler: BatchHandler, options?: SubscribeOptions): Subscription;
  /** Position of the newest committed event (0 when empty). */
  headPosition(): Promise<number>;
  close(): Promise<void>;
}

export class WrongExpectedRevisionError extends Error {
  override readonly name = 'WrongExpectedRevisionError';
  readonly code = 'CONCURRENCY.WRONG_EXPECTED_REVISION';
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    /** -1 when the stream does not exist. */
    readonly actual: number,
  ) {
    super(`stream ${stream}: expected revision ${String(expected)}, actual ${actual === -1 ? 'no stream' : actual}`);
  }
}

export class EventIdConflictError extends Error {
  override readonly name = 'EventIdConflictError';
  readonly code = 'EVENT_STORE.EVENT_ID_CONFLICT';
  constructor(
    readonly stream: string,
    readonly eventId: string,
    detail: string,
  ) {
    super(`stream ${stream}: event id ${eventId} ${detail}`);
  }
}

export class SubscriptionError extends Error {
  override readonly name = 'SubscriptionError';
  constructor(
    /** Position of the last event handled successfully: resume after it. */
    readonly lastHandledPosition: number,
    override readonly cause: unknown,
  ) {
    super(`subscription handler failed after position ${lastHandledPosition}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

export function isConcurrencyError(e: unknown): e is WrongExpectedRevisionError {
  return e instanceof WrongExpectedRevisionError;
}

