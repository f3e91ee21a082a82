import { Global, Inject, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { HealthRegistry, Metrics, withTimeout, DEPENDENCY_PROBE_MS, loadDocumentFile, USAGE_LOOKUP, USAGE_PROGRESS, type ComponentHealth } from '@el/platform';
import { catalogDocument } from '@el/domain';
import { openReadModels } from '@el/read-models';
import { MeterFeedController, MeterFeedSubscription } from './meters/meter-feed.controller';
import { MeterRegistry } from './meters/meter-registry';
import { MeterFeedCatchUp } from './meters/meter-feed-catch-up';
import { DEFAULT_METERING_OPTIONS, METERING_CATALOG, METERING_CONFIG, METERING_DB, METERING_OPTIONS, meteringDbConfig, type MeteringConfig, type MeteringOptions } from './metering.config';
import { UsageCountersPublisher } from './counters/usage-counters-publisher';
import { METERING_SCHEMA } from './store/schema';
import { UsageCounters } from './usage/usage-counters';
import { UsageLedger } from './usage/usage-ledger';
import { UsageAlerts } from './usage/usage-alerts';
import { UsageSeries } from './usage/usage-series';
import { UsageGroupCommit } from './usage/usage-group-commit';
import { UsageController } from './usage/usage.http.controller';
import { UsageMessagesController, UsageSubscription } from './usage/usage-messages.controller';
import { CqrsModule } from '@nestjs/cqrs';
import { CloseUsagePeriodHandler } from './close-usage-period/close-usage-period.handler';
import { UsagePeriodCloser } from './close-usage-period/usage-period-closer';
import { CorrectUsageHandler } from './correct-usage/correct-usage.handler';
import { CorrectUsageController } from './correct-usage/correct-usage.http.controller';
import { ExportUsageHandler } from './export-usage/export-usage.query';
import { ExportUsageController } from './export-usage/export-usage.http.controller';
import { ClosedPeriods } from './periods/closed-periods';
import { ClosedPeriodsLoader } from './periods/closed-periods.loader';
import { UsagePeriodStore } from './periods/usage-period-store';
import { UsagePeriodStreams } from './periods/usage-period-streams';

class MeteringLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(METERING_DB) private readonly db: DataSource,
    private readonly ledger: UsageLedger,
    private readonly registry: MeterRegistry,
    private readonly counters: UsageCounters,
    private readonly alerts: UsageAlerts,
    health: HealthRegistry,
    metrics: Metrics,
    private readonly catchUp: MeterFeedCatchUp,
  ) {
    health.register('metering', () => this.report());
    // What happened to the usage reported: accepted, duplicate, or refused with its code.
    const events = metrics.fastCounter('metering_usage_events_total', 'Usage events ingested, by status (accepted, duplicate, rejected) and refusal code', ['status', 'code']);
    const children = new Map<string, { inc(): void }>();
    ledger.onResults((results) => {
      for (const r of results) {
        const k = `${r.status}\u0000${r.code ?? ''}`;
        let c = children.get(k);
        if (!c) children.set(k, (c = events.child({ status: r.status, code: r.code ?? '' })));
        c.inc();
      }
    });
  }

  /** Up only while the metering store answers: ingestion and the usage API need it. */
  private async report(): Promise<ComponentHealth> {
    const facts = { db: this.db.options.type, entitlements: this.registry.size, usagePosition: this.counters.position, meterFeed: this.catchUp.isReady ? 'caught up' : { catchingUp: this.catchUp.behind, ...(this.catchUp.readsLog ? { reads: 'the log, once the read models and the enforcement view have caught up' } : {}) } };
    try {
      await withTimeout(this.db.query('SELECT 1'), DEPENDENCY_PROBE_MS);
      return { status: 'up', ...facts };
    } catch (err) {
      return { status: 'down', reason: `the metering store does not answer: ${(err as Error).message}`, ...facts };
    }
  }
  async onApplicationBootstrap(): Promise<void> {
    await this.ledger.load();
    await this.alerts.publishPending();
  }
  async onApplicationShutdown(): Promise<void> {
    if (this.db.isInitialized) await this.db.destroy();
  }
}


/**
 * The metering service: usage ingestion with one effect per (source, id),
 * counters per entitlement, meter and period, and the usage hook checks read
 * in the same process (USAGE_LOOKUP). Learns meters from ledger.entitlements.v1
 * (in-process when embedded). Closes periods after their lateness window,
 * takes corrections and serves the billing export. With Kafka it also
 * publishes every customer's counters on metering.counters.v1 for enforcement
 * services in other processes (UsageCountersPublisher). Requires
 * PlatformModule, MessagingModule, EventStoreModule and an Authenticator
 * (IdentityModule).
 */
@Global()
@Module({})
export class MeteringModule {
  static register(config: MeteringConfig, dataDir: string, options: Partial<MeteringOptions> = {}): DynamicModule {
    const db = meteringDbConfig(config, dataDir);
    return {
      module: MeteringModule,
      // Corrections and period closes are commands (and the export a query) through the CQRS buses; they record events in the EventStore (EventStoreModule, global).
      imports: [CqrsModule.forRoot()],
      controllers: [MeterFeedController, UsageController, UsageMessagesController, CorrectUsageController, ExportUsageController],
      providers: [
        { provide: METERING_CONFIG, useValue: config },
        { provide: METERING_CATALOG, useFactory: () => loadDocumentFile(config.CATALOG_PATH, { variable: 'CATALOG_PATH', what: 'catalog', errorName: 'CatalogLoadError', parse: catalogDocument }) },
        { provide: METERING_OPTIONS, useValue: { ...DEFAULT_METERING_OPTIONS, ...options } },
        { provide: METERING_DB, useFactory: () => openReadModels(db, METERING_SCHEMA) },
        MeterRegistry,
        MeterFeedCatchUp,
        MeterFeedSubscription,
        UsageSubscription,
        UsageCounters,
        UsageLedger,
        UsageGroupCommit,
        UsageAlerts,
        UsageSeries,
        MeteringLifecycle,
        // Period close, corrections, export.
        UsagePeriodStore,
        UsagePeriodStreams,
        ClosedPeriods,
        ClosedPeriodsLoader,
        CloseUsagePeriodHandler,
        CorrectUsageHandler,
        ExportUsageHandler,
        UsagePeriodCloser,
        UsageCountersPublisher,
        { provide: USAGE_LOOKUP, inject: [UsageCounters], useFactory: (c: UsageCounters) => c.lookup },
        { provide: USAGE_PROGRESS, useExisting: UsageCounters },
      ],
      exports: [USAGE_LOOKUP, USAGE_PROGRESS, UsageLedger, UsageCounters, MeterRegistry, UsagePeriodCloser, ClosedPeriods, UsageCountersPublisher],
    };
  }
}
