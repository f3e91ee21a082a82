import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { LedgerModule, ledgerErrorTable, readLedgerConfig } from '@el/ledger-service';
import { createHttpApp, listen, PlatformModule, runMain } from '@el/platform';

/** The ledger service on its own (distributed mode): command API, order intake and queries. */
runMain('ledger', async () => {
  const config = readLedgerConfig();

  @Module({
    imports: [PlatformModule.forRoot({ serviceName: 'ledger', logLevel: config.LOG_LEVEL, errorTable: ledgerErrorTable }), LedgerModule.register(config)],
  })
  class LedgerAppModule {}

  const app = await createHttpApp(LedgerAppModule, {
    title: 'Entitlement Ledger — ledger service',
    description: 'Command API (orders, entitlements, seats, devices, access requests) and queries.',
    version: process.env['npm_package_version'] ?? '0.1.0',
  });
  await listen(app, config.PORT, config.HOST, 'Ledger service is up');
});
