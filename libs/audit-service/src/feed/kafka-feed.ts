import { Controller, Inject, Injectable, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { AUDIT_RECORD_TYPE, TOPICS, type AuditRecordV1 } from '@el/contracts';
import { jsonOf, type BusSubscription, type BusSubscriptionSource, type IncomingMessage } from '@el/messaging';
import { AUDIT_CONFIG, AUDIT_OPTIONS, type AuditConfig, type AuditOptions } from '../audit.config';
import { AuditLog } from '../log/audit-log';
import type { LoggedEvent } from '../log/audit-entry';
import { AuditIngest } from './audit-ingest';

/** The au_state entry that says where on the feed's topic to resume: the next offset to read (a topic of its own, its own offsets). */
export const kafkaOffsetState = (topic: string): string => `kafka_offset:${topic}`;

const feedTopicOf = (options: AuditOptions): string => options.feedTopic ?? TOPICS.audit;

/**
 * ledger.audit.v1 is read from where the audit store says (the offset commits
 * with the leaves), never from the group's own offsets.
 */
@Injectable()
export class AuditFeedSubscription implements BusSubscriptionSource {
  constructor(
    @Inject(AUDIT_CONFIG) private readonly config: AuditConfig,
    @Inject(AUDIT_OPTIONS) private readonly options: AuditOptions,
    private readonly log: AuditLog,
  ) {}

  async subscription(): Promise<BusSubscription> {
    const next = await this.log.state(kafkaOffsetState(feedTopicOf(this.options)));
    // Many messages in flight, recorded together: the handler only queues, in offset order.
    return { group: this.config.AUDIT_FEED_GROUP, topic: feedTopicOf(this.options), fromBeginning: true, dedupe: false, concurrency: 1000, ordered: false, ...(next !== null ? { startFrom: { 0: next } } : {}) };
  }
}

function eventOf(m: IncomingMessage): LoggedEvent {
  const r = jsonOf<AuditRecordV1>(m);
  if (r?.type !== AUDIT_RECORD_TYPE || !Number.isSafeInteger(r.position) || typeof r.stream !== 'string' || !Number.isSafeInteger(r.revision) || typeof r.eventType !== 'string' || typeof r.metadata !== 'object' || r.metadata === null) {
    throw new Error(`ledger.audit.v1 offset ${m.offset} is not an ${AUDIT_RECORD_TYPE}`);
  }
  return { id: r.id, position: r.position, stream: r.stream, revision: r.revision, type: r.eventType, data: r.data, metadata: r.metadata, recordedAt: r.recordedAt };
}

/**
 * The audit feed on Kafka (the audit service on its own): ledger.audit.v1,
 * one partition in the log's order. Messages are queued strictly in offset
 * order and appended together (one transaction per batch, with the next
 * offset to read). A message that arrives ahead of one still missing (an
 * earlier one being retried) is refused and comes back later, so the tree
 * never gets an event before its predecessor. A message that is not an audit
 * record stops the feed (retried, never skipped: a skipped event would be a
 * hole in the tree).
 */
@Controller()
export class KafkaAuditFeed {
  private readonly logger = new Logger('audit');
  private pending: { event: LoggedEvent; offset: bigint; done: () => void; fail: (e: unknown) => void }[] = [];
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** The next offset to append durably (null until known: the stored state, else the first message). */
  private committed: bigint | null = null;
  /** The next offset to queue. */
  private queued: bigint | null = null;
  /** The stored resume offset, read once: every message waits on this one promise, so they go on in the order they came. */
  private loaded: Promise<void> | null = null;

  private readonly offsetState: string;

  constructor(
    private readonly ingest: AuditIngest,
    private readonly log: AuditLog,
    @Inject(AUDIT_OPTIONS) options: AuditOptions,
  ) {
    this.offsetState = kafkaOffsetState(feedTopicOf(options));
  }

  @EventPattern(TOPICS.audit, { subscription: AuditFeedSubscription })
  async receive(@Payload() m: IncomingMessage): Promise<void> {
    this.loaded ??= this.log.state(this.offsetState).then((stored) => {
      this.committed = this.queued = stored !== null ? BigInt(stored) : null;
    });
    await this.loaded;
    const offset = BigInt(m.offset);
    if (this.committed !== null && offset < this.committed) return; // logged already
    this.committed ??= offset;
    this.queued ??= offset;
    if (offset > this.queued) throw new Error(`ledger.audit.v1 offset ${offset} arrived before offset ${this.queued}; it is taken again after it`);
    let event: LoggedEvent;
    try {
      event = eventOf(m);
    } catch (err) {
      this.ingest.failed(err);
      this.logger.error({ err, offset: m.offset }, 'a message on ledger.audit.v1 is not an audit record; the feed stops here until it is fixed');
      throw err;
    }
    if (offset === this.queued) this.queued = offset + 1n;
    return new Promise<void>((done, fail) => {
      this.pending.push({ event, offset, done, fail });
      if (this.pending.length >= 500) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), 5);
    });
  }

  private async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.flushing) {
      await this.flushing;
      if (this.pending.length > 0) return this.flush();
      return;
    }
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    this.flushing = (async () => {
      try {
        const next = batch.reduce((m, b) => (b.offset > m ? b.offset : m), 0n) + 1n;
        await this.ingest.ingest(batch.map((b) => b.event), { [this.offsetState]: next.toString() });
        this.committed = next;
        for (const b of batch) b.done();
      } catch (err) {
        this.ingest.failed(err);
        // Everything after the last durable offset comes again, in order.
        const waiting = this.pending;
        this.pending = [];
        this.queued = this.committed;
        for (const b of [...batch, ...waiting]) b.fail(err);
      }
    })();
    try {
      await this.flushing;
    } finally {
      this.flushing = null;
    }
  }
}
