import { randomBytes } from 'node:crypto';
import { Controller, Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { TOPICS, usageCountersSchemaV1, type UsageCountersV1 } from '@el/contracts';
import type { UsageLookup } from '@el/domain';
import { INTEGRATION_EVENTS, jsonOf, type BusSubscription, type BusSubscriptionSource, type IncomingMessage, type IntegrationEvents } from '@el/messaging';
import { Clock, compileSchema, HealthRegistry, Metrics, type ComponentHealth, type UsageProgress } from '@el/platform';
import { consumerGroup, ENFORCEMENT_CONFIG, type EnforcementConfig } from '../enforcement.config';
import { EnforcementViewRunner } from '../view/view-runner';
import { UsageCountersView } from './usage-counters-view';

/** Where the counters are read (tests use topics of their own). */
export const USAGE_COUNTERS_TOPIC = Symbol('USAGE_COUNTERS_TOPIC');

const validCounters = compileSchema(usageCountersSchemaV1);

/**
 * Usage for the checks of an enforcement service without metering in its
 * process: metering.counters.v1 read into a UsageCountersView — from the
 * beginning of every partition at every start (the topic is compacted: one
 * message per customer), under a group of this process's own, like the
 * entitlement feed. Provides the checks' usage hook (USAGE_LOOKUP, periods
 * anchored at the entitlement the enforcement view holds) and read-your-usage
 * (USAGE_PROGRESS, per customer). /health says down until the topic has been
 * read to where it ended at start.
 */
@Injectable()
export class UsageCountersFeed implements BusSubscriptionSource, OnModuleInit, OnApplicationShutdown, UsageProgress {
  private readonly logger = new Logger('usage-counters');
  readonly view = new UsageCountersView();
  private startEnds: Record<number, string> = {};
  private readonly next = new Map<number, bigint>();
  private caughtUp = false;
  private consuming = false;
  private lastMessageAt: string | null = null;
  private lastRejected: { at: string; partition: number; offset: string; reason: string } | null = null;
  private readonly messages;
  readonly lookup: UsageLookup;

  constructor(
    @Inject(ENFORCEMENT_CONFIG) private readonly config: EnforcementConfig,
    @Inject(INTEGRATION_EVENTS) private readonly bus: IntegrationEvents,
    @Inject(USAGE_COUNTERS_TOPIC) private readonly topic: string,
    runner: EnforcementViewRunner,
    private readonly clock: Clock,
    private readonly health: HealthRegistry,
    private readonly metrics: Metrics,
  ) {
    this.messages = metrics.counter('enforcement_usage_counters_messages_total', 'Messages of metering.counters.v1 read, by outcome (applied, older: a newer state was held, rejected)', ['outcome']);
    // The entitlement (its customer and period anchor) comes from the enforcement view, looked up at check time.
    this.lookup = this.view.lookup((id) => runner.view.entitlement(id));
  }

  async onModuleInit(): Promise<void> {
    await this.bus.ensureTopics([this.topic]);
    this.startEnds = await this.bus.endOffsets(this.topic);
    this.updateCaughtUp();
    this.health.register('usageCounters', () => this.report());
    this.metrics.gauge('enforcement_usage_counters_customers', 'Customers whose usage counters the enforcement view holds', [], (g) => g.set(this.view.size));
  }

  /**
   * Every partition from its beginning, under a group of this start's own: a new group has no
   * committed offsets, so it reads from the beginning without a seek (seeking a group back to 0
   * could leave a partition at its committed end until its next message: a start not ready for
   * as long). Each start leaves an empty group behind, which Kafka forgets after its offsets
   * retention (offsets.retention.minutes, 7 days by default).
   */
  subscription(): BusSubscription {
    this.consuming = true;
    const group = `${consumerGroup(this.config)}-usage-${START_ID}`;
    this.logger.log({ topic: this.topic, group, endOffsets: this.startEnds }, 'usage counters consuming');
    return { group, topic: this.topic, fromBeginning: true, dedupe: false };
  }

  onApplicationShutdown(): void {
    this.consuming = false;
    this.view.cancelWaits();
  }

  waitFor(customerId: string, position: number, timeoutMs: number): Promise<boolean> {
    return this.view.waitFor(customerId, position, timeoutMs);
  }

  /** Applies one message; a message it cannot read is counted and skipped, never retried. */
  handle(m: IncomingMessage): void {
    let value: UsageCountersV1 | null = null;
    let problem: string | null = null;
    try {
      value = jsonOf<UsageCountersV1>(m);
      const errors = validCounters(value);
      if (errors.length > 0) problem = `not a UsageCountersV1: ${errors[0]!.path} ${errors[0]!.message}`;
      else if (m.key !== null && m.key !== value.customerId) problem = `key ${m.key} is not the customer ${value.customerId}`;
    } catch (err) {
      problem = `not JSON: ${(err as Error).message}`;
    }
    if (problem || !value) {
      this.lastRejected = { at: this.clock.now().toISOString(), partition: m.partition, offset: m.offset, reason: problem ?? 'empty' };
      this.messages.inc({ outcome: 'rejected' });
      this.logger.error({ partition: m.partition, offset: m.offset, reason: problem }, 'usage counters message skipped');
    } else {
      this.messages.inc({ outcome: this.view.apply(value) ? 'applied' : 'older' });
    }
    this.next.set(m.partition, BigInt(m.offset) + 1n);
    this.lastMessageAt = m.timestamp;
    if (!this.caughtUp) this.updateCaughtUp();
  }

  private updateCaughtUp(): void {
    this.caughtUp = Object.entries(this.startEnds).every(([p, end]) => (this.next.get(Number(p)) ?? 0n) >= BigInt(end));
    if (this.caughtUp) this.logger.log({ customers: this.view.size }, 'usage counters caught up');
  }

  private report(): ComponentHealth {
    const status = this.consuming && this.caughtUp ? 'up' : 'down';
    return {
      status,
      ...(status === 'up'
        ? {}
        : {
            reason: this.consuming ? `replaying ${this.topic}: usage caps would be checked against partial usage` : 'not consuming yet',
            // Per partition: the next offset to read, and the end it must reach (the end when the process started).
            progress: Object.fromEntries(Object.entries(this.startEnds).map(([p, end]) => [p, { next: String(this.next.get(Number(p)) ?? 0n), end }])),
          }),
      topic: this.topic,
      customers: this.view.size,
      lastMessageAt: this.lastMessageAt,
      ...(this.lastRejected ? { lastRejected: this.lastRejected } : {}),
    };
  }
}

/** Names this process's start (its usage counters group). */
const START_ID = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

/** The counters' feed: metering.counters.v1, every partition, in order per customer. */
@Controller()
export class UsageCountersFeedController {
  constructor(private readonly feed: UsageCountersFeed) {}

  @EventPattern(TOPICS.usageCounters, { subscription: UsageCountersFeed })
  apply(@Payload() m: IncomingMessage): void {
    this.feed.handle(m);
  }
}
