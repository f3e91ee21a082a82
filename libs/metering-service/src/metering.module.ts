import { Global, Inject, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { HealthRegistry, USAGE_LOOKUP, USAGE_PROGRESS, type ComponentHealth } from '@el/platform';
import { openReadModels } from '@el/read-models';
import { MeterFeedController, MeterFeedSubscription } from './meters/meter-feed.controller';
import { MeterRegistry } from './meters/meter-registry';
import { DEFAULT_METERING_OPTIONS, METERING_CONFIG, METERING_DB, METERING_OPTIONS, meteringDbConfig, type MeteringConfig, type MeteringOptions } from './metering.config';
import { UsageCountersPublisher } from './counters/usage-counters-publisher';
import { METERING_SCHEMA } from './store/schema';
import { UsageCounters } from './usage/usage-counters';
import { UsageLedger } from './usage/usage-ledger';
import { UsageAlerts } from './usage/usage-alerts';
import { UsageController } from './usage/usage.http.controller';
import { UsageMessagesController, UsageSubscription } from './usage/usage-messages.controller';

class MeteringLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(METERING_DB) private readonly db: DataSource,
    private readonly ledger: UsageLedger,
    private readonly registry: MeterRegistry,
    private readonly counters: UsageCounters,
    private readonly alerts: UsageAlerts,
    health: HealthRegistry,
  ) {
    health.register('metering', () => this.report());
  }

  /** Up only while the metering store answers: ingestion and the usage API need it. */
  private async report(): Promise<ComponentHealth> {
    const facts = { db: this.db.options.type, entitlements: this.registry.size, usagePosition: this.counters.position };
    try {
      await withTimeout(this.db.query('SELECT 1'), 2_000);
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

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * The metering service: usage ingestion with one effect per (source, id),
 * counters per entitlement, meter and period, and the usage hook checks read
 * in the same process (USAGE_LOOKUP). Learns meters from ledger.entitlements.v1
 * (in-process when embedded). With Kafka it also publishes every customer's
 * counters on metering.counters.v1 for enforcement services in other
 * processes (UsageCountersPublisher). Requires PlatformModule, MessagingModule
 * and an Authenticator (IdentityModule).
 */
@Global()
@Module({})
export class MeteringModule {
  static register(config: MeteringConfig, dataDir: string, options: Partial<MeteringOptions> = {}): DynamicModule {
    const db = meteringDbConfig(config, dataDir);
    return {
      module: MeteringModule,
      controllers: [MeterFeedController, UsageController, UsageMessagesController],
      providers: [
        { provide: METERING_CONFIG, useValue: config },
        { provide: METERING_OPTIONS, useValue: { ...DEFAULT_METERING_OPTIONS, ...options } },
        { provide: METERING_DB, useFactory: () => openReadModels(db, METERING_SCHEMA) },
        MeterRegistry,
        MeterFeedSubscription,
        UsageSubscription,
        UsageCounters,
        UsageLedger,
        UsageAlerts,
        MeteringLifecycle,
        UsageCountersPublisher,
        { provide: USAGE_LOOKUP, inject: [UsageCounters], useFactory: (c: UsageCounters) => c.lookup },
        { provide: USAGE_PROGRESS, useExisting: UsageCounters },
      ],
      exports: [USAGE_LOOKUP, USAGE_PROGRESS, UsageLedger, UsageCounters, MeterRegistry, UsageCountersPublisher],
    };
  }
}
