import { Inject, Injectable, Logger, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@el/event-store';
import { Clock, HealthRegistry, Metrics, withTimeout } from '@el/platform';
import type { IntegrationEvents } from '../integration-events.port';
import { EntitlementRelay } from '../relay/entitlement-relay';
import { INTEGRATION_EVENTS } from './tokens';

/** How long shutdown waits for the relay's batch in flight. */
const RELAY_STOP_MS = 3_000;

export const RELAY_OPTIONS = Symbol('RELAY_OPTIONS');

export interface RelayRunnerOptions {
  readonly subscriptionId: string;
  readonly maxLagSeconds: number;
  readonly batchSize?: number;
  /** The audit feed's topic (AUDIT_TOPIC; default ledger.audit.v1). */
  readonly auditTopic?: string;
}

/** Runs the Kafka relay in this process, with its lag in /metrics and /health. */
@Injectable()
export class RelayRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('relay');
  readonly relay: EntitlementRelay;

  constructor(
    @Inject(RELAY_OPTIONS) private readonly options: RelayRunnerOptions,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(INTEGRATION_EVENTS) bus: IntegrationEvents,
    private readonly clock: Clock,
    metrics: Metrics,
    health: HealthRegistry,
  ) {
    const published = metrics.counter('relay_messages_published_total', 'Messages the relay published to ledger.entitlements.v1');
    const duration = metrics.histogram('relay_batch_duration_seconds', 'Time to map and publish one batch (acks=all)', [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]);
    // The relay's progress is the outbox's: it is kept with the log (EventStore.checkpoints), not in the disposable read database.
    this.relay = new EntitlementRelay(store, bus, store.checkpoints, {
      subscriptionId: options.subscriptionId,
      ...(options.batchSize ? { batchSize: options.batchSize } : {}),
      ...(options.auditTopic ? { auditTopic: options.auditTopic } : {}),
      onBatch: (b) => {
        published.inc(b.published);
        duration.observe(b.durationMs / 1000);
        this.logger.debug({ events: b.events, published: b.published, position: b.position, ms: Math.round(b.durationMs) }, 'relay batch published');
      },
      onError: (err, attempt) => this.logger.error({ err, attempt }, 'relay batch failed; retrying from the checkpoint'),
    });
    metrics.gauge('relay_lag_events', 'Events in the store the relay has not published yet', [], (g) => this.lag().then((l) => g.set(l.events ?? Number.NaN)));
    health.register('relay', async () => {
      const lag = await this.lag();
      return { status: lag.seconds > options.maxLagSeconds ? 'degraded' : 'up', subscriptionId: options.subscriptionId, topic: this.relay.topic, ...lag };
    });
  }

  /** Events not yet published (null when positions are not dense: EventStoreDB), and the age of the oldest. */
  async lag(): Promise<{ position: number; events: number | null; seconds: number }> {
    const position = await this.store.checkpoints.load(this.options.subscriptionId);
    const head = await this.store.headPosition();
    if (position >= head) return { position, events: 0, seconds: 0 };
    const [next] = await this.store.readAll({ after: position, maxCount: 1 });
    return { position, events: this.store.densePositions ? head - position : null, seconds: next ? Math.max(0, (this.clock.nowMs() - Date.parse(next.recordedAt)) / 1000) : 0 };
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.relay.start();
    this.logger.log({ subscriptionId: this.options.subscriptionId, topic: this.relay.topic }, 'relay started');
  }

  async beforeApplicationShutdown(): Promise<void> {
    // A batch whose publish waits on a broker that is down is not waited for: its checkpoint is not
    // saved, so the next start publishes it again (consumers drop the duplicates by id).
    await withTimeout(this.relay.stop(), RELAY_STOP_MS).catch(() => this.logger.warn({ ms: RELAY_STOP_MS }, 'relay did not stop in time; its last batch is published again at the next start'));
  }
}

/** The relay: event store → ledger.entitlements.v1. Requires MessagingModule (Kafka) and EventStoreModule. */
@Module({})
export class RelayModule {
  static register(options: RelayRunnerOptions): DynamicModule {
    return { module: RelayModule, providers: [{ provide: RELAY_OPTIONS, useValue: options }, RelayRunner], exports: [RelayRunner] };
  }
}
