/**
 * The IntegrationEvents port: at-least-once messaging between services.
 * Adapters: Kafka (distributed) and in-process (embedded, reading the event
 * store's global log). Both pass the same contract suite.
 */
export interface OutgoingMessage {
  /** Partitioning key: messages with one key are delivered in order. */
  readonly key: string;
  /** Unique id of the message; a republished message keeps it, so consumers can drop duplicates. */
  readonly id: string;
  /** Serialised as JSON. */
  readonly value: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Send to this partition instead of the key's (watermarks go to every partition). */
  readonly partition?: number;
}

export interface IncomingMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  /** The message id (header `ce_id`), when the producer set one. */
  readonly id: string | null;
  /** The original bytes. */
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly timestamp: string;
}

export type MessageHandler = (message: IncomingMessage) => Promise<void>;

export interface ConsumeOptions {
  /** Where a new consumer group starts: the beginning (default) or only new messages. */
  readonly fromBeginning?: boolean;
  /** Drop a message whose id this consumer has already handled (default true). */
  readonly dedupe?: boolean;
  /** Backoff for a handler that throws: the message is retried, never skipped. */
  readonly retry?: { readonly initialMs: number; readonly maxMs: number };
  readonly onError?: (error: unknown, message: IncomingMessage, attempt: number) => void;
  /**
   * Messages of one partition handled at once (default 1). Messages with the
   * same key are always handled one after another, in order; progress is
   * marked only up to the oldest message not yet handled.
   */
  readonly concurrency?: number;
  /**
   * Messages with the same key handled one after another (default true). A
   * consumer whose effect does not depend on the order of one key's messages
   * (usage counted once per id, aggregated by commutative sums) may say false:
   * with concurrency, one busy key is then not limited to one message at a
   * time. Handlers are still started in offset order.
   */
  readonly ordered?: boolean;
  /**
   * Where to resume, per partition (the next offset to read), for consumers
   * that keep their own snapshot of what they have applied; overrides the
   * group's committed offsets.
   */
  readonly startFrom?: Readonly<Record<number, string>>;
  /**
   * Read only these partitions of the topic (a shard of a view: VIEW_PARTITIONS); default every
   * one. The group's only member is assigned them whatever the group's other members ask.
   */
  readonly partitions?: readonly number[];
  /**
   * In-process bus, the topic the event store feeds: who reads the log first while its readers in
   * this process catch up (SubscribeOptions.priority of @el/event-store). Kafka consumers ignore it.
   * Default `normal`.
   */
  readonly priority?: 'normal' | 'deferred' | 'background';
}

export interface RunningConsumer {
  stop(): Promise<void>;
}

export interface IntegrationEvents {
  /**
   * Creates the topics that do not exist yet (with the configured partitions).
   * `log`: ordered logs (the audit feed and its tree heads): one partition, kept
   * forever, and refused when they exist with more partitions.
   */
  ensureTopics(topics: readonly string[], options?: { readonly log?: boolean }): Promise<void>;
  /** How many partitions the topic has (1 in-process). */
  partitionsOf(topic: string): Promise<number>;
  /** The offset the next message of each partition will get (consumer lag = end offset − next offset read). */
  endOffsets(topic: string): Promise<Record<number, string>>;
  /** The offset of the first message each partition still holds (0 unless retention removed older ones). */
  startOffsets(topic: string): Promise<Record<number, string>>;
  /**
   * Names the sequence a topic's offsets belong to (a Kafka cluster's topic, or
   * the event store's log in-process): offsets a consumer saved are only valid
   * where this answers the same, so a snapshot taken under another bus or
   * broker is recognised and not resumed from.
   */
  offsetScope(topic: string): Promise<string>;
  /** Resolves once every message is durably accepted (acks=all). */
  publish(topic: string, messages: readonly OutgoingMessage[]): Promise<void>;
  /**
   * Hands every message of the topic to the handler, one at a time per
   * partition, in order; marks it consumed only after the handler returned
   * (at-least-once). A handler that throws is retried with backoff.
   */
  consume(topic: string, group: string, handler: MessageHandler, options?: ConsumeOptions): Promise<RunningConsumer>;
  /**
   * The bus as measured now, answered within about a second: whether the
   * brokers answer, and each consumer's state (in-process: always up).
   */
  health(): Promise<BusHealth>;
  close(): Promise<void>;
}

export interface BusHealth {
  readonly status: 'up' | 'degraded' | 'down';
  readonly [detail: string]: unknown;
}

/**
 * Retry of work that waits on a dependency (a broker, a database): at most a
 * second between attempts, so a dependency that comes back is used again
 * within a second or two, not after a long backoff.
 */
export const RESUME_RETRY = { initialMs: 100, maxMs: 1_000 } as const;

export function jsonOf<T>(message: IncomingMessage): T {
  // In-process, a message made from the event store is handed over as the value itself: its consumer's own copy, never encoded.
  if (message instanceof DecodedMessage) return message.decoded as T;
  if (!message.value) throw new Error(`message ${message.topic}/${message.partition}/${message.offset} has no value`);
  return JSON.parse(message.value.toString('utf8')) as T;
}

/**
 * A message handed to one consumer in this process as the value it carries: `jsonOf` returns it
 * as it is, and its bytes are only made if a consumer asks for them (a dead letter). Each
 * consumer gets its own value, so what one keeps another cannot change.
 */
export class DecodedMessage implements IncomingMessage {
  private bytes: Buffer | null = null;
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: string,
    readonly key: string | null,
    readonly id: string | null,
    readonly decoded: unknown,
    readonly headers: Readonly<Record<string, string>>,
    readonly timestamp: string,
  ) {}

  get value(): Buffer {
    return (this.bytes ??= Buffer.from(JSON.stringify(this.decoded)));
  }
}

/**
 * Remembers the ids of the last `capacity` handled messages. The oldest is found in a ring, not by
 * iterating the Set from its start: a Set keeps deleted entries until it rehashes, and a fresh
 * iterator walks past all of them, so forgetting one id at a time that way cost a walk of up to
 * `capacity` entries per message once it was full (36 s of a 1M-event start).
 */
export class SeenIds {
  private readonly ids = new Set<string>();
  private readonly ring: (string | undefined)[];
  private next = 0;

  constructor(private readonly capacity = 100_000) {
    this.ring = new Array<string | undefined>(capacity);
  }

  has(id: string | null): boolean {
    return id !== null && this.ids.has(id);
  }

  add(id: string | null): void {
    if (id === null || this.ids.has(id)) return;
    const oldest = this.ring[this.next];
    if (oldest !== undefined) this.ids.delete(oldest);
    this.ring[this.next] = id;
    this.next = (this.next + 1) % this.capacity;
    this.ids.add(id);
  }
}

export function backoff(attempt: number, retry: { initialMs: number; maxMs: number }): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.min(retry.maxMs, retry.initialMs * 2 ** Math.max(0, attempt - 1))));
}

/** The CloudEvents type of a message, from its `ce_type` header (no parsing needed). */
export function typeOf(message: IncomingMessage): string | null {
  return message.headers['ce_type'] ?? null;
}
