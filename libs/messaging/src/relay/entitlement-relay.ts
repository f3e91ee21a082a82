import { auditMessageV1, catalogMessageV1, INSTALLATION_HEADER, TOPICS, watermarkMessageV1 } from '@el/contracts';
import { CATALOG_STREAM, type CatalogPublished } from '@el/domain';
import { asRead, runCheckpointed, storedEvents, type CheckpointedSubscription, type CheckpointStore, type EventStore, type RecordedEvent } from '@el/event-store';
import { apiKeyMessages } from '../api-key-feed';
import { EntitlementFeed } from '../entitlement-feed';
import { installationOf } from '../installation';
import { RESUME_RETRY, type IntegrationEvents } from '../integration-events.port';

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
 */
export class EntitlementRelay {
  private readonly feed: EntitlementFeed;
  private subscription: CheckpointedSubscription | null = null;
  /** The id of this log's first event: stamped on every message of the topic (see LedgerInstallation). */
  private installation: string | null = null;

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
    // The log as stored: the audit feed carries every event unchanged (its hashes cover the stored bytes); the other feeds read them upcasted.
    this.subscription = runCheckpointed(storedEvents(this.store), {
      subscriptionId: this.options.subscriptionId,
      checkpoints: this.checkpoints,
      checkpointing: 'after-batch',
      batchSize: this.options.batchSize ?? 1000,
      retry: RESUME_RETRY,
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
    // Every event in the log's order, on the audit feed's single partition (in flight together with the others).
    const audit = this.bus.publish(this.auditTopic, stored.map(auditMessageV1));
    audit.catch(() => undefined); // seen by the Promise.all below; handled here in case an earlier step throws first
    if (keys.length > 0) await this.bus.publish(TOPICS.apiKeys, keys);
    const partitions = await this.bus.partitionsOf(this.topic);
    const installation = await this.installationId();
    const stamp = this.stamper(installation);
    const messages = (await this.feed.messages(batch, partitions)).map(stamp);
    // After the batch, a watermark on every partition: all changes up to here are published.
    const last = batch[batch.length - 1]!;
    const watermarks = Array.from({ length: partitions }, (_, partition) => stamp(watermarkMessageV1(last.position, partition, partitions, last.recordedAt, installation)));
    await Promise.all([this.bus.publish(this.topic, [...messages, ...watermarks]), audit]);
    this.options.onBatch?.({ events: batch.length, published: messages.length, position: last.position, durationMs: performance.now() - started });
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

  position(): number {
    return this.subscription?.position() ?? 0;
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
    this.subscription = null;
  }
}
