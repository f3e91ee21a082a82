import { auditMessageV1, catalogMessageV1, INSTALLATION_HEADER, TOPICS, watermarkMessageV1 } from '@el/contracts';
import { CATALOG_STREAM, type CatalogPublished } from '@el/domain';
import { asRead, runCheckpointed, storedEvents, type CheckpointedSubscription, type CheckpointStore, type EventStore, type RecordedEvent } from '@el/event-store';
import { apiKeyMessages } from '../api-key-feed';
import { EntitlementFeed } from '../entitlement-feed';
import { installationOf } from '../installation';
import { RESUME_RETRY, type IntegrationEvents, type OutgoingMessage } from '../integration-events.port';

const RETRY = RESUME_RETRY;

export interface RelayOptions {
  /** Stable, configured id: the relay's checkpoint. */
  readonly subscriptionId: string;
  /** Default ledger.entitlements.v1. */
  readonly topic?: string;
  /** Default ledger.audit.v1. */
  readonly auditTopic?: string;
  readonly batchSize?: number;
  readonly onBatch?: (info: { events: number; published: number; position: number; durationMs: number }) => void;
  readonly onError?: (error: unknown, attempt: number) => void;
}

/**
 * The outbox relay: a checkpointed subscription to the event store's global
 * log that publishes every entitlement change and catalog version to
 * ledger.entitlements.v1, every API key creation and revocation to
 * ledger.api-keys.v1 and every stored event, as stored, to ledger.audit.v1
 * (one partition: the log's order), then moves its checkpoint. A crash between the two republishes a batch: only
 * duplicates, which consumers drop by event id. The event store is the outbox;
 * no command handler ever publishes.
 *
 * Pipelined: while one batch is being published (waiting for the brokers'
 * acks), the next is read and mapped; it is handed to the bus only once the
 * previous one is acked and checkpointed, so batches leave in log order. A
 * publish that fails is retried in place (the batch behind it waits), so no
 * later message can overtake it.
 */
export class EntitlementRelay {
  private readonly feed: EntitlementFeed;
  private subscription: CheckpointedSubscription | null = null;
  /** The id of this log's first event: stamped on every message of the topic (see LedgerInstallation). */
  private installation: string | null = null;
  /** The batch handed to the bus: published, then checkpointed. */
  private pending: Promise<void> = Promise.resolve();
  /** The last position published and checkpointed. */
  private acked = 0;
  private stopping = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly store: EventStore,
    private readonly bus: IntegrationEvents,
    private readonly checkpoints: CheckpointStore,
    private readonly options: RelayOptions,
  ) {
    this.feed = new EntitlementFeed(store);
  }

  async start(): Promise<void> {
    if (this.subscription) return;
    await this.bus.ensureTopics([this.topic, TOPICS.apiKeys]);
    await this.bus.ensureTopics([this.auditTopic], { log: true });
    await this.announceCatalog();
    this.stopping = false;
    this.pending = Promise.resolve();
    this.acked = await this.checkpoints.load(this.options.subscriptionId);
    // The log as stored: the audit feed carries every event unchanged (its hashes cover the stored bytes); the other feeds read them upcasted.
    this.subscription = runCheckpointed(storedEvents(this.store), {
      subscriptionId: this.options.subscriptionId,
      checkpoints: this.checkpoints,
      // The relay saves it itself, once a batch is acked (see publishBatch).
      checkpointing: 'by-handler',
      batchSize: this.options.batchSize ?? 1000,
      retry: RETRY,
      handle: (batch) => this.relay(batch),
      ...(this.options.onError ? { onError: (e: unknown, attempt: number) => this.options.onError!(e, attempt) } : {}),
    });
  }

  /**
   * Publishes the catalog in force again on every partition when the relay
   * resumes past it: views that start on a topic written before catalog
   * messages existed, or that lost theirs, still learn which catalog is in
   * force (a view takes a version once, and only when newer than its own).
   */
  private async announceCatalog(): Promise<void> {
    const versions = await this.store.readStream(CATALOG_STREAM);
    const last = versions.filter((e) => e.type === 'CatalogPublished').pop();
    if (!last || last.position > (await this.checkpoints.load(this.options.subscriptionId))) return;
    const { version, hash, label, catalog } = (last as typeof last & { data: CatalogPublished['data'] }).data;
    const partitions = await this.bus.partitionsOf(this.topic);
    await this.bus.publish(
      this.topic,
      Array.from({ length: partitions }, (_, partition) => catalogMessageV1({ position: last.position, recordedAt: last.recordedAt, version, hash, label, catalog }, partition)).map(this.stamper(await this.installationId())),
    );
  }

  private async relay(stored: readonly RecordedEvent[]): Promise<void> {
    const started = performance.now();
    const batch = asRead(this.store, stored);
    // API keys first: a service never sees an entitlement change before a key created ahead of it.
    const keys = apiKeyMessages(batch);
    // Every event in the log's order, on the audit feed's single partition.
    const audit = stored.map(auditMessageV1);
    const partitions = await this.bus.partitionsOf(this.topic);
    const installation = await this.installationId();
    const stamp = this.stamper(installation);
    const messages = (await this.feed.messages(batch, partitions)).map(stamp);
    // After the batch, a watermark on every partition: all changes up to here are published.
    const last = batch[batch.length - 1]!;
    const watermarks = Array.from({ length: partitions }, (_, partition) => stamp(watermarkMessageV1(last.position, partition, partitions, last.recordedAt, installation)));
    // The batch before this one leaves first, and is checkpointed, before this one is handed over.
    await this.pending;
    const published = this.publishBatch(audit, keys, [...messages, ...watermarks], last.position).then(() =>
      this.options.onBatch?.({ events: batch.length, published: messages.length, position: last.position, durationMs: performance.now() - started }),
    );
    published.catch(() => undefined); // awaited by the next batch, or by stop()
    this.pending = published;
  }

  /** Publishes one batch (retrying in place until it is acked, or the relay stops), then saves the checkpoint. */
  private async publishBatch(audit: readonly OutgoingMessage[], keys: readonly OutgoingMessage[], changes: readonly OutgoingMessage[], position: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const auditSent = this.bus.publish(this.auditTopic, audit); // in flight together with the others
        auditSent.catch(() => undefined); // seen by the Promise.all below; handled here in case the keys fail first
        if (keys.length > 0) await this.bus.publish(TOPICS.apiKeys, keys);
        await Promise.all([this.bus.publish(this.topic, changes), auditSent]);
        break;
      } catch (err) {
        this.options.onError?.(err, attempt);
        if (this.stopping) throw err;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(RETRY.maxMs, RETRY.initialMs * 2 ** (attempt - 1)));
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = null;
        if (this.stopping) throw err;
      }
    }
    await this.checkpoints.save(this.options.subscriptionId, position);
    this.acked = position;
  }

  /** Known once the log has an event (it has, whenever there is something to publish). */
  private async installationId(): Promise<string> {
    this.installation ??= await installationOf(this.store);
    return this.installation!;
  }

  private stamper(installation: string) {
    return <M extends { readonly headers?: Readonly<Record<string, string>> }>(m: M): M => ({ ...m, headers: { ...m.headers, [INSTALLATION_HEADER]: installation } });
  }

  get auditTopic(): string {
    return this.options.auditTopic ?? TOPICS.audit;
  }

  get topic(): string {
    return this.options.topic ?? TOPICS.entitlements;
  }

  /** The last position published and checkpointed. */
  position(): number {
    return this.acked;
  }

  /** Stops reading; the batch being published finishes (a failing one stops retrying and is republished by the next start). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.subscription?.stop();
    this.subscription = null;
    await this.pending.catch(() => undefined);
  }
}
