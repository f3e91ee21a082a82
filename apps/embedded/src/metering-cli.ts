import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { meteringConfigSpec, meteringDbConfig, METERING_SCHEMA, rebuildMeteringCounters, type CounterRebuildProgress } from '@el/metering-service';
import { configReader, env, runMain } from '@el/platform';
import { describeReadDb, openReadModels } from '@el/read-models';

const USAGE = `usage: npm run metering -- rebuild

  rebuild   recompute the usage counters (mt_counters) and the distinct values of unique-count meters
            from the raw usage events (each says how it was counted) and the corrections
            of the metering store (METERING_DB, METERING_DB_PATH / METERING_DB_URL, DATA_DIR).
            Alerts and period closes stay as they are. Stop the metering service first, or restart it
            afterwards: a running process keeps the counters it loaded at start.
`;

/** A bar on a terminal, a line every two seconds into a log file or pipe. */
function progressPrinter(stream: NodeJS.WriteStream = process.stderr): (p: CounterRebuildProgress) => void {
  let last = 0;
  return (p) => {
    const fraction = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
    const text = `${p.phase.padEnd(11)} ${p.done.toLocaleString('en-US')}/${p.total.toLocaleString('en-US')} rows · ${Math.round(p.rowsPerSecond).toLocaleString('en-US')} rows/s`;
    if (stream.isTTY) {
      const width = 30;
      const filled = Math.round(fraction * width);
      stream.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}% ${text}\x1b[K${p.phase === 'done' ? '\n' : ''}`);
    } else if (p.phase !== 'events' || Date.now() - last > 2000) {
      last = Date.now();
      stream.write(`${String(Math.round(fraction * 100)).padStart(3)}% ${text}\n`);
    }
  };
}

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
    const r = await rebuildMeteringCounters(ds, progressPrinter());
    process.stdout.write(`rebuilt ${r.counters.toLocaleString('en-US')} counters from ${r.events.toLocaleString('en-US')} usage events and ${r.corrections.toLocaleString('en-US')} corrections in ${r.seconds.toFixed(1)} s\n`);
  } finally {
    await ds.destroy();
  }
});
