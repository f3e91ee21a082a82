import { Inject, Injectable, Logger, Optional, type BeforeApplicationShutdown, type OnApplicationShutdown } from '@nestjs/common';
import { decisionRecordMessageV1, decisionRecordV1, TOPICS, type DecisionRecordV1, type DecisionRequestV1, type DecisionUsageV1 } from '@el/contracts';
import type { Decision } from '@el/domain';
import { INTEGRATION_EVENTS, type IntegrationEvents } from '@el/messaging';
import { IdGenerator, Metrics, nextTurn } from '@el/platform';
import { ENFORCEMENT_CONFIG, type EnforcementConfig } from '../enforcement.config';
import { DecisionSampler } from './decision-sampler';

/** The random source of the allow sample (default Math.random): tests bind their own. */
export const DECISION_LOG_RANDOM = Symbol('DECISION_LOG_RANDOM');

/** One decision and what it was decided from, as the check path hands it over. */
export interface DecisionToLog {
  readonly request: DecisionRequestV1;
  readonly atMs: number;
  readonly decidedAtMs: number;
  readonly decision: Decision;
  readonly position: number;
  readonly catalogVersion: number | null;
  readonly stale: boolean;
  readonly usage: readonly DecisionUsageV1[];
}

/** Records per producer request. */
const PUBLISH_BATCH = 500;
/** How long shutdown waits for the records still buffered to be accepted by the bus. */
const SHUTDOWN_FLUSH_MS = 5_000;

/**
 * The decision log: every denial and a sample of allows
 * (DECISION_LOG_ALLOW_SAMPLE) go to enforcement.decisions.v1 as
 * DecisionRecordV1, keyed by customer. A check only appends to a bounded
 * buffer; publishing happens in the background, in batches. When the bus
 * cannot take them (Kafka down, an in-process consumer stuck), records stay
 * buffered and are retried, and once the buffer (DECISION_LOG_BUFFER) is full
 * new records are dropped and counted — a check never waits for the log.
 */
@Injectable()
export class DecisionLog implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('decision-log');
  private readonly sampler: DecisionSampler;
  private readonly capacity: number;
  /** Records not yet accepted by the bus, oldest first (those being published included). */
  private buffer: DecisionRecordV1[] = [];
  private draining: Promise<void> | null = null;
  private topicReady = false;
  private stopped = false;
  private readonly idPrefix: string;
  private seq = 0;
  private readonly published;
  private readonly dropped;
  private readonly failures;

  constructor(
    @Inject(ENFORCEMENT_CONFIG) config: EnforcementConfig,
    @Inject(INTEGRATION_EVENTS) private readonly bus: IntegrationEvents,
    ids: IdGenerator,
    metrics: Metrics,
    @Optional() @Inject(DECISION_LOG_RANDOM) random?: () => number,
  ) {
    this.sampler = new DecisionSampler(config.DECISION_LOG_ALLOW_SAMPLE, random ?? Math.random);
    this.capacity = config.DECISION_LOG_BUFFER;
    // Unique per process start; a counter after it keeps ids cheap on the check path.
    this.idPrefix = ids.random();
    this.published = metrics.counter('enforcement_decision_log_records_total', 'Decision records accepted by the bus on enforcement.decisions.v1');
    this.dropped = metrics.counter('enforcement_decision_log_dropped_total', 'Decision records dropped: the buffer was full (the bus could not keep up or was down), or still unsent at shutdown', ['reason']);
    this.failures = metrics.counter('enforcement_decision_log_publish_failures_total', 'Failed attempts to publish a batch of decision records (retried)');
    metrics.gauge('enforcement_decision_log_buffered', 'Decision records waiting to be published', [], (g) => g.set(this.buffer.length));
  }

  /** Whether this decision goes to the log (every denial; allows at the sample rate). */
  keeps(decision: Decision): boolean {
    return this.sampler.keeps(decision);
  }

  /** Appends a record for publishing; never waits, never throws. */
  record(d: DecisionToLog): void {
    if (this.stopped) return void this.dropped.inc({ reason: 'shutdown' });
    if (this.buffer.length >= this.capacity) return void this.dropped.inc({ reason: 'buffer_full' });
    this.buffer.push(
      decisionRecordV1({
        id: `${this.idPrefix}:${++this.seq}`,
        request: d.request,
        atMs: d.atMs,
        at: new Date(d.atMs).toISOString(),
        decidedAt: new Date(d.decidedAtMs).toISOString(),
        decision: d.decision,
        position: d.position,
        catalogVersion: d.catalogVersion,
        stale: d.stale,
        usage: d.usage,
      }),
    );
    this.drain();
  }

  /** Records buffered, not yet accepted by the bus. */
  get buffered(): number {
    return this.buffer.length;
  }

  /** Resolves once every record buffered so far has been published (or dropped at shutdown). */
  async flushed(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private drain(): void {
    if (this.draining || this.stopped) return;
    this.draining = this.publishAll().finally(() => {
      this.draining = null;
      if (this.buffer.length > 0 && !this.stopped) this.drain();
    });
  }

  private async publishAll(): Promise<void> {
    // Let the request being answered (a batch of checks) add its other records first: one producer request for all.
    await nextTurn();
    for (let attempt = 1; this.buffer.length > 0 && !this.stopped; ) {
      const batch = this.buffer.slice(0, PUBLISH_BATCH);
      try {
        if (!this.topicReady) {
          await this.bus.ensureTopics([TOPICS.decisions]);
          this.topicReady = true;
        }
        await this.bus.publish(TOPICS.decisions, batch.map(decisionRecordMessageV1));
        // Records are removed only once accepted: the buffer's bound counts those in flight too.
        if (this.buffer[0] === batch[0]) this.buffer.splice(0, batch.length);
        this.published.inc(batch.length);
        attempt = 1;
      } catch (err) {
        this.failures.inc();
        if (attempt === 1 || attempt % 10 === 0) this.logger.warn({ err, attempt, buffered: this.buffer.length }, 'decision records not published; retrying');
        await pause(Math.min(5_000, 100 * 2 ** Math.min(attempt++, 6)));
      }
    }
  }

  /** Gives the records still buffered a bounded time to be published, while the bus is still open. */
  async beforeApplicationShutdown(): Promise<void> {
    this.drain();
    if (!this.draining) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.flushed(), new Promise<void>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_FLUSH_MS)))]);
    clearTimeout(timer);
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.buffer.length > 0) {
      this.dropped.inc({ reason: 'shutdown' }, this.buffer.length);
      this.logger.warn({ dropped: this.buffer.length }, 'decision records still unpublished at shutdown were dropped');
      this.buffer = [];
    }
  }
}

/** A retry's pause that never keeps the process alive on its own. */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
