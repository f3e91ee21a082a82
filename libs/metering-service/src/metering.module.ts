import { Global, Inject, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { HealthRegistry, USAGE_LOOKUP } from '@el/platform';
import { openReadModels } from '@el/read-models';
import { MeterFeedController, MeterFeedSubscription } from './meters/meter-feed.controller';
import { MeterRegistry } from './meters/meter-registry';
import { METERING_CONFIG, METERING_DB, meteringDbConfig, type MeteringConfig } from './metering.config';
import { METERING_SCHEMA } from './store/schema';
import { UsageCounters } from './usage/usage-counters';
import { UsageLedger } from './usage/usage-ledger';
import { UsageAlerts } from './usage/usage-alerts';
import { UsageGroupCommit } from './usage/usage-group-commit';
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
    health.register('metering', () => ({ status: 'up', db: db.options.type, entitlements: this.registry.size, usagePosition: this.counters.position }));
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
 * (in-process when embedded). Requires PlatformModule, MessagingModule and an
 * Authenticator (IdentityModule).
 */
@Global()
@Module({})
export class MeteringModule {
  static register(config: MeteringConfig, dataDir: string): DynamicModule {
    const db = meteringDbConfig(config, dataDir);
    return {
      module: MeteringModule,
      controllers: [MeterFeedController, UsageController, UsageMessagesController],
      providers: [
        { provide: METERING_CONFIG, useValue: config },
        { provide: METERING_DB, useFactory: () => openReadModels(db, METERING_SCHEMA) },
        MeterRegistry,
        MeterFeedSubscription,
        UsageSubscription,
        UsageCounters,
        UsageLedger,
        UsageGroupCommit,
        UsageAlerts,
        MeteringLifecycle,
        { provide: USAGE_LOOKUP, inject: [UsageCounters], useFactory: (c: UsageCounters) => c.lookup },
      ],
      exports: [USAGE_LOOKUP, UsageLedger, UsageCounters, MeterRegistry],
    };
  }
}
