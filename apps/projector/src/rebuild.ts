import 'reflect-metadata';
import { describeEventStore, eventStorePath, openEventStore } from '@el/event-store';
import { configReader, runMain } from '@el/platform';
import { describeReadDb, openReadModels, readDbConfig, rebuildReadModels } from '@el/read-models';
import { existsSync } from 'node:fs';
import { projectorServiceConfigSpec } from './projector.config';
import { progressPrinter } from './progress-bar';

/**
 * npm run rebuild — rebuilds every read model from position 0 into fresh
 * tables and swaps them in atomically. Safe while the services run: they keep
 * serving the old tables until the swap, and the live projector simply
 * continues from the rebuilt position afterwards. Same configuration as the
 * projector (DATA_DIR, READ_DB, READ_DB_PATH / READ_DB_URL, PROJECTOR_SUBSCRIPTION_ID).
 */
runMain('rebuild', async () => {
  const config = configReader(projectorServiceConfigSpec)();
  const path = eventStorePath(config);
  if (config.EVENT_STORE === 'sqlite' && !existsSync(path)) throw Object.assign(new Error(`DATA_DIR: no event store at ${path}`), { name: 'ConfigError' });
  const readDb = readDbConfig(config, config.DATA_DIR);
  const store = openEventStore(config);
  const ds = await openReadModels(readDb);
  process.stderr.write(`rebuilding read models in ${describeReadDb(readDb)} from ${describeEventStore(config)} (subscription ${config.PROJECTOR_SUBSCRIPTION_ID})\n`);
  try {
    const result = await rebuildReadModels(ds, store, { subscriptionId: config.PROJECTOR_SUBSCRIPTION_ID, batchSize: 2000, onProgress: progressPrinter() });
    process.stdout.write(
      `rebuilt ${result.events.toLocaleString('en-US')} events up to position ${result.position} in ${result.seconds.toFixed(1)} s (${Math.round(result.eventsPerSecond).toLocaleString('en-US')} events/s); the new tables are live\n`,
    );
  } finally {
    await ds.destroy();
    await store.close();
  }
});
