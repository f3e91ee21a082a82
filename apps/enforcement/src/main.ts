import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { CHECK_ROUTES, checkApiOpenApiPaths, consumerGroup, EnforcementModule, enforcementErrorTable, readEnforcementServiceConfig } from '@el/enforcement-service';
import { busConfig, connectBus, MessagingModule } from '@el/messaging';
import { IdentityModule } from '@el/identity';
import { accessPolicy, ConfigError, createHttpApp, listen, PlatformModule, runMain } from '@el/platform';

/**
 * The enforcement service on its own (distributed mode): consumes
 * ledger.entitlements.v1 and metering.counters.v1 from Kafka into its
 * in-memory view and answers checks. Run as many as you need; each reads
 * every partition.
 */
runMain('enforcement', async () => {
  const config = readEnforcementServiceConfig();
  const bus = busConfig(config, 'enforcement');
  if (bus.kind !== 'kafka') {
    throw new ConfigError([{ variable: 'BUS', message: 'must be kafka for the enforcement service on its own (embedded mode, `npm start`, runs it in-process)' }]);
  }

  @Module({
    imports: [
      PlatformModule.forRoot({ serviceName: 'enforcement', logLevel: config.LOG_LEVEL, errorTable: enforcementErrorTable, access: accessPolicy(config) }),
      MessagingModule.forRoot(bus),
      // No event store here: API keys arrive on ledger.api-keys.v1, published by the relay.
      IdentityModule.forRoot(config, { keys: { from: 'topic', group: `${consumerGroup(config)}-api-keys` } }),
      // No metering in this process: usage comes from metering.counters.v1.
      EnforcementModule.register(config, { usage: 'counters-topic' }),
    ],
  })
  class EnforcementAppModule {}

  const app = await createHttpApp(EnforcementAppModule, {
    title: 'Entitlement Ledger — enforcement service',
    description:
      'Real-time checks (POST /v1/check, /v1/check/batch) from an in-memory view of ledger.entitlements.v1 and of the usage counters on metering.counters.v1, ' +
      'with read-your-writes through minPosition (a ledger position) and read-your-usage through minUsagePosition (the position a usage ingest of the same customer answered).',
    version: process.env['npm_package_version'] ?? '0.1.0',
    extraPaths: checkApiOpenApiPaths,
    quietRoutes: CHECK_ROUTES,
    ...(config.CORS_ORIGINS ? { corsOrigins: config.CORS_ORIGINS } : {}),
  });
  // The view's feeds (ledger.entitlements.v1, metering.counters.v1): @EventPattern handlers served from Kafka.
  connectBus(app);
  await listen(app, config.PORT, config.HOST, 'Enforcement service is up');
});
