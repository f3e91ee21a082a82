import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { describeEventStore, EventStoreModule } from '@el/event-store';
import { busConfig, describeKafka, MessagingModule, RelayModule } from '@el/messaging';
import { configReader, createHttpApp, listen, PlatformModule, runMain } from '@el/platform';
import { describeReadDb, ProjectorModule, readDbConfig, ReadModelsModule } from '@el/read-models';
import { projectorServiceConfigSpec } from './projector.config';

/**
 * The projector service (distributed mode): keeps the read models up to date
 * from the event store's global log. HTTP serves only /health and /metrics.
 */
runMain('projector', async () => {
  const config = configReader(projectorServiceConfigSpec)();
  const readDb = readDbConfig(config, config.DATA_DIR);
  const bus = busConfig(config, 'projector');

  @Module({
    imports: [
      PlatformModule.forRoot({ serviceName: 'projector', logLevel: config.LOG_LEVEL, errorTable: {} }),
      EventStoreModule.forRoot(config),
      ReadModelsModule.forRoot({ db: readDb, subscriptionId: config.PROJECTOR_SUBSCRIPTION_ID, queryWaitMs: config.QUERY_WAIT_MS }),
      ProjectorModule.register(config),
      // The relay (event store → Kafka) is the projector's second subscription, when there is a Kafka.
      ...(bus.kind === 'kafka' ? [MessagingModule.forRoot(bus), RelayModule.register({ subscriptionId: config.RELAY_SUBSCRIPTION_ID, maxLagSeconds: config.PROJECTOR_MAX_LAG_SECONDS, batchSize: config.RELAY_BATCH_SIZE, auditTopic: config.AUDIT_TOPIC })] : []),
    ],
  })
  class ProjectorAppModule {}

  const app = await createHttpApp(ProjectorAppModule, {
    title: 'Entitlement Ledger — projector',
    description: 'Keeps the read models up to date. Operational endpoints only.',
    version: process.env['npm_package_version'] ?? '0.1.0',
  });
  await listen(app, config.PORT, config.HOST, `Projector is up — ${describeEventStore(config)} → ${describeReadDb(readDb)} (subscription ${config.PROJECTOR_SUBSCRIPTION_ID})${bus.kind === 'kafka' ? `, relaying to kafka ${describeKafka(bus)}` : ''}`);
});
