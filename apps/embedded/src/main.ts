import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { resolve } from 'node:path';
import { LedgerModule, ledgerErrorTable, readLedgerConfig } from '@el/ledger-service';
import { createHttpApp, listen, PlatformModule, runMain } from '@el/platform';

/**
 * Embedded mode: every service in one process on one port, the SQLite event
 * store under DATA_DIR, no servers to install. The paths are the same as in
 * distributed mode, so clients do not change when the deployment grows.
 */
runMain('entitlement-ledger', async () => {
  const config = readLedgerConfig();

  @Module({
    imports: [
      PlatformModule.forRoot({ serviceName: 'entitlement-ledger', logLevel: config.LOG_LEVEL, errorTable: { ...ledgerErrorTable } }),
      LedgerModule.register(config),
    ],
  })
  class EmbeddedModule {}

  const app = await createHttpApp(EmbeddedModule, {
    title: 'Entitlement Ledger',
    description: 'Orders, entitlements, seats, devices and approvals as immutable events. Embedded mode: all services on one port.',
    version: process.env['npm_package_version'] ?? '0.1.0',
  });
  await listen(app, config.PORT, config.HOST, `Entitlement Ledger (embedded) is up — data in ${resolve(config.DATA_DIR)}, catalog ${resolve(config.CATALOG_PATH)}`);
});
