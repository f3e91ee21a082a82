import { TOPICS, watermarkMessageV1 } from '@el/contracts';
import { runCheckpointed, type EventStore } from '@el/event-store';
import { EntitlementFeed } from '../entitlement-feed';
import { backoff, DecodedMessage, RESUME_RETRY, SeenIds, type BusHealth, type ConsumeOptions, type IncomingMessage, type IntegrationEvents, type MessageHandler, type OutgoingMessage, type RunningConsumer } from '../integration-events.port';

/** While a consumer reads full pages (catching up), how often its checkpoint is saved. */
const CATCH_UP_CHECKPOINT_EVERY_MS = 1_000;

/**
 * IntegrationEvents inside one process (embedded mode). ledger.entitlements.v1
 * is read straight from the event store's global log through the same feed
 * the Kafka relay publishes, with a checkpoint per consumer group kept in the
 * event store (EventStore.checkpoints): durable,
 * at-least-once, in order. Other topics are a best-effort fan-out to the
 * consumers present (nothing outside the process can publish to them).
 */
export class InProcessIntegrationEvents implements IntegrationEvents {
  private readonly local = new Map<string, Set<(m: IncomingMessage) => Promise<void>>>();
  private readonly running = new Set<RunningConsumer>();
  private offsets = 0;

  private readonly checkpoints;

  constructor(
    private readonly store: EventStore,
    /** The topic the event store feeds (default ledger.entitlements.v1). */
    private readonly entitlementsTopic: string = TOPICS.entitlements,
  ) {
    // A consumer group's progress through the log is kept with the log.
    this.checkpoints = store.checkpoints;
  }

  async partitionsOf(): Promise<number> {
    return 1;
  }

  private readonly instance = `${process.pid}-${Date.now().toString(36)}`;

  async offsetScope(topic: string): Promise<string> {
    // The event-store-fed topic's offsets are log positions; the others count messages of this process only.
    return topic === this.entitlementsTopic ? `inprocess:event-store/${topic}` : `inprocess:${this.instance}/${topic}`;
  }

  async endOffsets(topic: string): Promise<Record<number, string>> {
    // Offsets of the event-store-fed topic are log positions.
    return { 0: String(topic === this.entitlementsTopic ? (await this.store.headPosition()) + 1 : this.offsets) };
  }

  async startOffsets(topic: string): Promise<Record<number, string>> {
    // The event-store-fed topic starts at the log's first position; local fan-outs keep nothing.
    return { 0: topic === this.entitlementsTopic ? '1' : String(this.offsets) };
  }

  async ensureTopics(): Promise<void> {
    // Topics exist implicitly in-process: the event store feeds one, the others are local fan-outs.
  }

  async publish(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    if (topic === this.entitlementsTopic) throw new Error(`${topic} is fed by the event store in embedded mode; it cannot be published to`);
    for (const m of messages) {
      const incoming: IncomingMessage = {
        topic,
        partition: 0,
        offset: String(this.offsets++),
        key: m.key,
        id: m.id,
        value: Buffer.from(JSON.stringify(m.value)),
        headers: { ...m.headers, ce_id: m.id },
        timestamp: new Date().toISOString(),
      };
      for (const deliver of this.local.get(topic) ?? []) await deliver(incoming);
    }
  }

  async consume(topic: string, group: string, handler: MessageHandler, options: ConsumeOptions = {}): Promise<RunningConsumer> {
    // One partition here: a consumer asked for a subset without partition 0 would read nothing and never say why.
    if (options.partitions && !options.partitions.includes(0)) throw new RangeError(`the in-process bus has one partition (0); asked to read partitions ${options.partitions.join(',')}`);
    const dedupe = options.dedupe ?? true;
    const seen = new SeenIds();
    const handle = async (m: IncomingMessage) => {
      if (dedupe && seen.has(m.id)) return;
      await handler(m);
      seen.add(m.id);
    };
    if (topic !== this.entitlementsTopic) {
      const retry = options.retry ?? RESUME_RETRY;
      const deliver = async (m: IncomingMessage) => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await handle(m);
          } catch (err) {
            options.onError?.(err, m, attempt);
            await backoff(attempt, retry);
          }
        }
      };
      let set = this.local.get(topic);
      if (!set) this.local.set(topic, (set = new Set()));
      set.add(deliver);
      const rc = { stop: async () => void set!.delete(deliver) };
      this.running.add(rc);
      return rc;
    }

    const feed = new EntitlementFeed(this.store);
    const subscriptionId = `bus:${group}`;
    const resume = options.startFrom?.[0];
    // startFrom is the next offset to read; in-process offsets are log positions and a checkpoint is the last one handled.
    if (resume !== undefined) await this.checkpoints.save(subscriptionId, Math.max(0, Number(resume) - 1));
    else if (options.fromBeginning === false && (await this.checkpoints.load(subscriptionId)) === 0) {
      await this.checkpoints.save(subscriptionId, await this.store.headPosition());
    }
    // The checkpoint is a write to the log's file (an fsync): while catching up it is saved about once a
    // second, not after every page (two consumers saving 2,000 pages each spent seconds in fsync, and each
    // wait for the write handed the next turn to the other readers). A page that reaches the log's head is
    // saved (so is every page of the live tail), and on stop what was delivered since. A crash while
    // catching up redelivers at most the last second's pages: delivery is at-least-once either way.
    const batchSize = 500;
    let handled = 0; // the last position delivered by this consumer
    let saved = 0;
    let savedAt = performance.now();
    const save = async (position: number) => {
      await this.checkpoints.save(subscriptionId, position);
      saved = position;
      savedAt = performance.now();
    };
    const subscription = runCheckpointed(this.store, {
      subscriptionId,
      checkpoints: this.checkpoints,
      checkpointing: 'by-handler',
      batchSize,
      ...(options.priority ? { priority: options.priority } : {}),
      retry: options.retry ?? RESUME_RETRY,
      onError: (err) => options.onError?.(err, { topic, partition: 0, offset: '?', key: null, id: null, value: null, headers: {}, timestamp: new Date().toISOString() }, 0),
      handle: async (batch) => {
        const messages = await feed.messages(batch);
        for (const m of messages) {
          const position = (m.value as { position: number }).position;
          await handle(new DecodedMessage(topic, 0, String(position), m.key, m.id, m.value, { ...m.headers, ce_id: m.id }, (m.value as { time: string }).time));
        }
        // As the relay does: the whole batch is delivered, up to its last position.
        const last = batch[batch.length - 1]!;
        const watermark = watermarkMessageV1(last.position, 0, 1, last.recordedAt);
        await handle(new DecodedMessage(topic, 0, String(last.position), watermark.key, watermark.id, watermark.value, watermark.headers, last.recordedAt));
        handled = last.position;
        const due = batch.length < batchSize || performance.now() - savedAt >= CATCH_UP_CHECKPOINT_EVERY_MS;
        // A full page may end at the head (then the next read is empty and calls no handler): it is saved too.
        if (due || last.position >= (await this.store.headPosition())) await save(last.position);
      },
    });
    const rc = {
      stop: async () => {
        await subscription.stop();
        // What was delivered since the last save; if the log's store is already closed, a restart redelivers it.
        if (handled > saved) await save(handled).catch(() => undefined);
      },
    };
    this.running.add(rc);
    return rc;
  }

  /** The bus is this process's event store: as up as the store, which reports itself. */
  health(): Promise<BusHealth> {
    return Promise.resolve({ status: 'up', kind: 'inprocess' });
  }

  async close(): Promise<void> {
    for (const rc of [...this.running]) await rc.stop();
    this.running.clear();
  }
}
