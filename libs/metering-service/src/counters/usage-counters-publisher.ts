import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { usageCountersMessageV1, usageCountersV1, type UsageCounterV1, type UsageCountersV1 } from '@el/contracts';
import { BUS_CONFIG, INTEGRATION_EVENTS, type BusConfig, type IntegrationEvents } from '@el/messaging';
import { Clock, HealthRegistry, Metrics } from '@el/platform';
import { MeterRegistry } from '../meters/meter-registry';
import { METERING_DB, METERING_OPTIONS, type MeteringOptions } from '../metering.config';
import { UsageCounters, type CommittedCounter } from '../usage/usage-counters';

interface CounterRow {
  entitlement_id: string;
  feature: string;
  period_start: string;
  value: number | string;
  position: number | string;
}

/** Customers read back in one statement: their entitlements fill at most about this many parameters. */
const CHUNK_PARAMETERS = 900;
const RETRY_MS = { initial: 200, max: 10_000 };

/**
 * Publishes every customer's counters on metering.counters.v1 (key = customer,
 * compacted) for enforcement services in other processes.
 *
 * - After each committed ingest (`UsageCounters.onCommitted`), the customers
 *   whose counters moved are marked; a single background pump reads their
 *   counters back from the store — one statement per group of customers, so
 *   each message is one consistent committed state — and publishes one message
 *   per customer: its latest period of each meter, and the highest usage
 *   position among all its counters. Reading back (rather than using this
 *   process's memory) keeps the message true when several metering processes
 *   count for the same customer.
 * - The ingest never waits for this: a slow or unreachable Kafka leaves the
 *   customers marked, is logged and counted, and is retried with backoff.
 * - Nothing is lost across a crash between commit and publish: at every start,
 *   each customer is published again as the meter feed brings its entitlements
 *   (`MeterRegistry.onLearned`), from the store.
 *
 * Only with Kafka: in-process (embedded) the checks read UsageCounters directly.
 */
@Injectable()
export class UsageCountersPublisher implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('metering-counters');
  private readonly active: boolean;
  private readonly marked = new Set<string>();
  private pumping: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private stopped = false;
  private published = 0;
  private lastPublishedAt: string | null = null;
  private lastError: { at: string; message: string } | null = null;
  private readonly messages;
  private readonly failed;

  constructor(
    @Inject(METERING_DB) private readonly db: DataSource,
    @Inject(INTEGRATION_EVENTS) private readonly bus: IntegrationEvents,
    @Inject(BUS_CONFIG) busConfig: BusConfig,
    @Inject(METERING_OPTIONS) private readonly options: MeteringOptions,
    private readonly registry: MeterRegistry,
    private readonly counters: UsageCounters,
    private readonly clock: Clock,
    private readonly health: HealthRegistry,
    private readonly metrics: Metrics,
  ) {
    this.active = busConfig.kind === 'kafka';
    this.messages = metrics.counter('metering_counters_published_total', 'Customer counter states published on metering.counters.v1');
    this.failed = metrics.counter('metering_counters_publish_failures_total', 'Failed attempts to publish counter states (retried; the customers stay marked)');
  }

  private get topic(): string {
    return this.options.countersTopic;
  }

  private get postgres(): boolean {
    return this.db.options.type === 'postgres';
  }

  /** Customers whose newest counters are not published yet. */
  get pending(): number {
    return this.marked.size;
  }

  async onModuleInit(): Promise<void> {
    if (!this.active) return;
    await this.bus.ensureTopics([this.topic]);
    this.counters.onCommitted((moved) => this.markMoved(moved));
    this.registry.onLearned((e) => this.mark(e.customerId));
    this.metrics.gauge('metering_counters_pending_customers', 'Customers whose newest counters are not yet on metering.counters.v1', [], (g) => g.set(this.marked.size));
    this.health.register('usageCounters', () => ({
      status: this.lastError && this.failures > 0 ? 'degraded' : 'up',
      ...(this.lastError && this.failures > 0 ? { reason: `publishing to ${this.topic} fails: ${this.lastError.message}` } : {}),
      topic: this.topic,
      pendingCustomers: this.marked.size,
      published: this.published,
      lastPublishedAt: this.lastPublishedAt,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    }));
  }

  /** Publishes what is marked now and stops retrying; what is left goes out at the next start. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.marked.size > 0 && !this.pumping && this.failures === 0) this.pump();
    this.stopped = true;
    await this.pumping;
  }

  /** Resolves once everything marked so far is published (tests, shutdown). */
  async drained(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  private markMoved(moved: readonly CommittedCounter[]): void {
    for (const m of moved) {
      const customerId = this.registry.get(m.entitlementId)?.customerId;
      // Unknown only while the counters are loaded at start: onLearned marks the customer when its entitlement arrives.
      if (customerId !== undefined) this.marked.add(customerId);
    }
    this.pump();
  }

  private mark(customerId: string): void {
    this.marked.add(customerId);
    this.pump();
  }

  private pump(): void {
    if (this.pumping || this.retryTimer || this.stopped || this.marked.size === 0) return;
    this.pumping = this.drain().finally(() => {
      this.pumping = null;
      // Marked while the last round was reading or publishing.
      if (this.failures === 0) this.pump();
    });
  }

  private async drain(): Promise<void> {
    while (this.marked.size > 0 && !this.stopped) {
      const customers = this.takeChunk();
      try {
        const states = await this.readBack(customers);
        if (states.length > 0) await this.bus.publish(this.topic, states.map(usageCountersMessageV1));
        this.published += states.length;
        this.messages.inc(states.length);
        if (states.length > 0) this.lastPublishedAt = this.clock.now().toISOString();
        this.failures = 0;
      } catch (err) {
        // Marked again (unless a newer ingest did already): the next attempt reads the newest state anyway.
        for (const c of customers) this.marked.add(c);
        this.failures += 1;
        this.failed.inc();
        this.lastError = { at: this.clock.now().toISOString(), message: (err as Error).message };
        const delay = Math.min(RETRY_MS.max, RETRY_MS.initial * 2 ** (this.failures - 1));
        this.logger.warn({ err, customers: customers.length, pending: this.marked.size, retryInMs: delay }, 'usage counters not published yet; retrying');
        if (!this.stopped) {
          this.retryTimer = setTimeout(() => {
            this.retryTimer = null;
            this.pump();
          }, delay);
          this.retryTimer.unref();
        }
        return;
      }
    }
  }

  /** Up to CHUNK_PARAMETERS entitlements' worth of marked customers (at least one), unmarked. */
  private takeChunk(): string[] {
    const out: string[] = [];
    let parameters = 0;
    for (const c of this.marked) {
      const n = this.registry.ofCustomer(c).length;
      if (out.length > 0 && parameters + n > CHUNK_PARAMETERS) break;
      out.push(c);
      parameters += n;
      this.marked.delete(c);
    }
    return out;
  }

  /**
   * The customers' counters as committed, in one statement (one snapshot): per
   * entitlement and meter the latest period, and per customer the highest
   * position of any of its counters (a late event counted in an earlier period
   * still moves it, so its ingest's position can be waited for).
   */
  private async readBack(customers: readonly string[]): Promise<UsageCountersV1[]> {
    const owner = new Map<string, string>();
    for (const c of customers) for (const e of this.registry.ofCustomer(c)) owner.set(e.entitlementId, c);
    if (owner.size === 0) return [];
    const ids = [...owner.keys()];
    const rows: CounterRow[] = await this.db.query(
      `SELECT entitlement_id, feature, period_start, value, position FROM mt_counters WHERE entitlement_id IN (${ids.map((_, i) => (this.postgres ? `$${i + 1}` : '?')).join(', ')})`,
      ids,
    );
    const byCustomer = new Map<string, { position: number; latest: Map<string, UsageCounterV1> }>();
    for (const r of rows) {
      const customerId = owner.get(r.entitlement_id)!;
      let s = byCustomer.get(customerId);
      if (!s) byCustomer.set(customerId, (s = { position: 0, latest: new Map() }));
      s.position = Math.max(s.position, Number(r.position));
      const k = `${r.entitlement_id}\u0000${r.feature}`;
      const held = s.latest.get(k);
      if (!held || r.period_start > held.periodStart) s.latest.set(k, { entitlementId: r.entitlement_id, feature: r.feature, periodStart: r.period_start, value: Number(r.value) });
    }
    const time = this.clock.now().toISOString();
    return [...byCustomer].map(([customerId, s]) => usageCountersV1(customerId, s.position, [...s.latest.values()], time));
  }
}
