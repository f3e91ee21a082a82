import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { AuditModule, auditConfigSpec, auditErrorTable } from '@el/audit-service';
import { CHECK_ROUTES, checkApiOpenApiPaths, EnforcementModule, enforcementConfigSpec, enforcementErrorTable } from '@el/enforcement-service';
import { claimDataDir, describeEventStore, EventStoreModule } from '@el/event-store';
import { LedgerModule, ledgerErrorTable, ledgerServiceConfigSpec } from '@el/ledger-service';
import { MeteringModule, meteringConfigSpec, meteringErrorTable } from '@el/metering-service';
import { busConfig, connectBus, describeKafka, MessagingModule, RelayModule } from '@el/messaging';
import { IdentityModule } from '@el/identity';
import { accessPolicy, ConsoleModule, consoleSettings, configReader, createHttpApp, listen, PlatformModule, runMain } from '@el/platform';
import { describeReadDb, projectorConfigSpec, ProjectorModule, readDbConfig, ReadModelsModule } from '@el/read-models';
import { resolve } from 'node:path';

/** Everything the embedded process reads (the union of its services' variables). */
export const embeddedConfigSpec = { ...enforcementConfigSpec, ...ledgerServiceConfigSpec, ...projectorConfigSpec, ...meteringConfigSpec, ...auditConfigSpec };

/**
 * Embedded mode: every service in one process on one port, the SQLite event
 * store and read models under DATA_DIR, no servers to install. The paths are
 * the same as in distributed mode, so clients do not change when the
 * deployment grows.
 */
runMain('entitlement-ledger', async () => {
  // The enforcement view's snapshot lives with the rest of the data unless told otherwise.
  const config = configReader(embeddedConfigSpec)({ ...process.env, ENFORCEMENT_DATA_DIR: process.env['ENFORCEMENT_DATA_DIR'] || process.env['DATA_DIR'] || undefined });
  // One embedded process per data directory (the claim dies with the process).
  claimDataDir(config.DATA_DIR, 'entitlement-ledger (embedded)');
  const readDb = readDbConfig(config, config.DATA_DIR);
  const bus = busConfig(config, 'embedded');

  @Module({
    imports: [
      PlatformModule.forRoot({ serviceName: 'entitlement-ledger', logLevel: config.LOG_LEVEL, errorTable: { ...ledgerErrorTable, ...enforcementErrorTable, ...meteringErrorTable, ...auditErrorTable }, access: accessPolicy(config) }),
      EventStoreModule.forRoot(config),
      IdentityModule.forRoot(config, { keys: { from: 'store' } }),
      ReadModelsModule.forRoot({ db: readDb, subscriptionId: config.PROJECTOR_SUBSCRIPTION_ID, queryWaitMs: config.QUERY_WAIT_MS }),
      MessagingModule.forRoot(bus),
      LedgerModule.register(config),
      ProjectorModule.register(config),
      EnforcementModule.register(config),
      // Usage: counted here, and read by the checks above in the same process.
      MeteringModule.register(config, config.DATA_DIR),
      // The audit log: every event of the store, read in-process, as leaves of a signed Merkle tree.
      AuditModule.register(config, { feed: 'event-store', dataDir: config.DATA_DIR, serveJwks: false }),
      // The web console (apps/console) at /console, built by `npm run build` and `npm start`.
      ConsoleModule.register(consoleSettings(config)),
      // With Kafka, this one process also relays entitlement changes to ledger.entitlements.v1.
      ...(bus.kind === 'kafka' ? [RelayModule.register({ subscriptionId: config.RELAY_SUBSCRIPTION_ID, maxLagSeconds: config.PROJECTOR_MAX_LAG_SECONDS, batchSize: config.RELAY_BATCH_SIZE, auditTopic: config.AUDIT_TOPIC })] : []),
    ],
  })
  class EmbeddedModule {}

  const app = await createHttpApp(EmbeddedModule, {
    title: 'Entitlement Ledger',
    description:
      'Orders, entitlements, seats, devices and approvals as immutable events, with read models kept by a projector; license tokens; real-time checks from the enforcement view. Embedded mode: all services on one port.',
    extraPaths: checkApiOpenApiPaths,
    quietRoutes: CHECK_ROUTES,
    version: process.env['npm_package_version'] ?? '0.1.0',
    ...(config.CORS_ORIGINS ? { corsOrigins: config.CORS_ORIGINS } : {}),
  });
  // ERP orders and the enforcement view's feed: @EventPattern handlers served from the bus.
  connectBus(app);
  await listen(
    app,
    config.PORT,
    config.HOST,
    `Entitlement Ledger (embedded) is up — events ${describeEventStore(config)}, read models ${describeReadDb(readDb)}, bus ${bus.kind === 'kafka' ? `kafka ${describeKafka(bus)}` : 'in-process'}, catalog ${resolve(config.CATALOG_PATH)}`,
    { console: true },
  );
});
