import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { EventStoreModule } from '@el/event-store';
import { LedgerModule, ledgerErrorTable, readLedgerServiceConfig } from '@el/ledger-service';
import { busConfig, connectBus, MessagingModule } from '@el/messaging';
import { IdentityModule } from '@el/identity';
import { accessPolicy, ConsoleModule, consoleSettings, createHttpApp, listen, PlatformModule, runMain } from '@el/platform';
import { readDbConfig, ReadModelsModule } from '@el/read-models';

/**
 * The ledger service on its own (distributed mode): command API, order intake
 * and queries. Its read models are kept by the projector service.
 */
runMain('ledger', async () => {
  const config = readLedgerServiceConfig();

  @Module({
    imports: [
      PlatformModule.forRoot({ serviceName: 'ledger', logLevel: config.LOG_LEVEL, errorTable: ledgerErrorTable, access: accessPolicy(config) }),
      EventStoreModule.forRoot(config),
      IdentityModule.forRoot(config, { keys: { from: 'store' } }),
      ReadModelsModule.forRoot({ db: readDbConfig(config, config.DATA_DIR), subscriptionId: config.PROJECTOR_SUBSCRIPTION_ID, queryWaitMs: config.QUERY_WAIT_MS }),
      MessagingModule.forRoot(busConfig(config, 'ledger')),
      LedgerModule.register(config),
      // The web console (apps/console) at /console, built by `npm run build` and `npm start`.
      ConsoleModule.register(consoleSettings(config)),
    ],
  })
  class LedgerAppModule {}

  const app = await createHttpApp(LedgerAppModule, {
    title: 'Entitlement Ledger — ledger service',
    description: 'Command API (orders, entitlements, seats, devices, access requests) and queries over the read models.',
    version: process.env['npm_package_version'] ?? '0.1.0',
    ...(config.CORS_ORIGINS ? { corsOrigins: config.CORS_ORIGINS } : {}),
  });
  // erp.orders.v1: an @EventPattern handler served from the bus.
  connectBus(app);
  await listen(app, config.PORT, config.HOST, 'Ledger service is up', { console: true });
});
