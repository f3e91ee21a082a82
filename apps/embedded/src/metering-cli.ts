import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { meteringConfigSpec, meteringDbConfig, METERING_SCHEMA, rebuildMeteringCounters } from '@el/metering-service';
import { configReader, env, progressPrinter, runMain } from '@el/platform';
import { describeReadDb, openReadModels } from '@el/read-models';

const USAGE = `usage: npm run metering -- rebuild

  rebuild   recompute the usage counters (mt_counters) and the distinct values of unique-count meters
            from the raw usage events (each says how it was counted) and the corrections
            of the metering store (METERING_DB, METERING_DB_PATH / METERING_DB_URL, DATA_DIR).
            Alerts and period closes stay as they are. Stop the metering service first, or restart it
            afterwards: a running process keeps the counters it loaded at start.
`;

/**
 * npm run metering -- rebuild: the metering store's counters from its raw
 * events (`rebuildMeteringCounters` in @el/metering-service does the work; this
 * is its command line, kept thin so a standalone metering app can serve it too).
 */
runMain('metering', async () => {
  const [command, ...extra] = process.argv.slice(2);
  if (command === 'rebuild' && extra.length > 0) {
    process.stderr.write(`rebuild takes no arguments (got ${extra.join(' ')}); configure it with the environment\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (command !== 'rebuild') {
    process.stderr.write(USAGE);
    process.exitCode = command === undefined || command === '--help' ? 0 : 2;
    return;
  }
  const config = configReader({ ...meteringConfigSpec, DATA_DIR: env.string({ default: './data', description: 'Directory of the embedded stores (metering.db)' }) })();
  const db = meteringDbConfig(config, config.DATA_DIR);
  if (db.kind === 'sqlite' && !existsSync(db.path)) throw Object.assign(new Error(`METERING_DB_PATH / DATA_DIR: no metering store at ${db.path}`), { name: 'ConfigError' });
  const ds = await openReadModels(db, METERING_SCHEMA);
  process.stderr.write(`rebuilding the usage counters of ${describeReadDb(db)}\n`);
  try {
    const print = progressPrinter();
    const r = await rebuildMeteringCounters(ds, (p) => print({ phase: p.phase, done: p.done, total: p.total, unit: 'rows', perSecond: p.rowsPerSecond }));
    process.stdout.write(`rebuilt ${r.counters.toLocaleString('en-US')} counters from ${r.events.toLocaleString('en-US')} usage events and ${r.corrections.toLocaleString('en-US')} corrections in ${r.seconds.toFixed(1)} s\n`);
  } finally {
    await ds.destroy();
  }
});
