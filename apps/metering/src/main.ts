import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { describeEventStore, EventStoreModule } from '@el/event-store';
import { busConfig, connectBus, describeKafka, MessagingModule } from '@el/messaging';
import { IdentityModule } from '@el/identity';
import { MeteringModule, meteringDbConfig, meteringErrorTable, readMeteringServiceConfig } from '@el/metering-service';
import { accessPolicy, ConfigError, createHttpApp, listen, PlatformModule, redactCredentials, runMain } from '@el/platform';
import { hostname } from 'node:os';

/**
 * The metering service on its own (distributed mode): usage ingestion
 * (POST /v1/usage and metering.usage.v1) into its store (PostgreSQL, or a
 * SQLite file for a single process), meters learned from
 * ledger.entitlements.v1, threshold alerts on metering.alerts.v1, and every
 * customer's counters on metering.counters.v1 for the enforcement services.
 * It keeps the event store too: usage corrections and period closes are
 * recorded there, so the audit history holds them.
 */
runMain('metering', async () => {
  const config = readMeteringServiceConfig();
  const bus = busConfig(config, 'metering');
  if (bus.kind !== 'kafka') {
    throw new ConfigError([{ variable: 'BUS', message: 'must be kafka for the metering service on its own (embedded mode, `npm start`, runs it in-process)' }]);
  }
  // Checked before anything connects: a bad METERING_DB_* stops the boot naming the variable.
  const db = meteringDbConfig(config, config.DATA_DIR);

  @Module({
    imports: [
      PlatformModule.forRoot({ serviceName: 'metering', logLevel: config.LOG_LEVEL, errorTable: meteringErrorTable, access: accessPolicy(config) }),
      EventStoreModule.forRoot(config),
      MessagingModule.forRoot(bus),
      // API keys arrive on ledger.api-keys.v1 (published by the relay), read under a group of this process's own.
      IdentityModule.forRoot(config, { keys: { from: 'topic', group: `metering-api-keys-${hostname()}-${process.pid}` } }),
      MeteringModule.register(config, config.DATA_DIR),
    ],
  })
  class MeteringAppModule {}

  const app = await createHttpApp(MeteringAppModule, {
    title: 'Entitlement Ledger — metering service',
    description:
      'Usage ingestion with exactly one effect per (source, id) (POST /v1/usage, metering.usage.v1), counters per entitlement, meter and period, threshold alerts (metering.alerts.v1), ' +
      'and every customer\'s counters on metering.counters.v1 for the enforcement services. An ingest answers a position: pass it as minUsagePosition to POST /v1/check on the enforcement service, for the same customer, to read your usage.',
    version: process.env['npm_package_version'] ?? '0.1.0',
    ...(config.CORS_ORIGINS ? { corsOrigins: config.CORS_ORIGINS } : {}),
  });
  // ledger.entitlements.v1 (meters) and metering.usage.v1 (usage): @EventPattern handlers served from Kafka.
  connectBus(app);
  await listen(app, config.PORT, config.HOST, `Metering service is up — store ${db.kind === 'postgres' ? `postgres ${redactCredentials(db.url)}` : `sqlite ${db.path}`}, events ${describeEventStore(config)}, bus kafka ${describeKafka(bus)}`);
});
