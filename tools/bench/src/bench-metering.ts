/**
 * npm run bench:metering — usage ingestion into the embedded metering store (SQLite):
 *  1. the UsageLedger in process: events/s recorded with their dedupe key, position and counter,
 *     in batches of 1,000 (as POST /v1/usage takes them), then the same events again (all duplicates);
 *  2. the baseline: a raw multi-row INSERT of the same rows into a table of the same shape in the
 *     same database file, measured in the same run.
 * BENCH_USAGE_EVENTS (default 200,000).
 */
import { join } from 'node:path';
import type { EntitlementV1 } from '@el/contracts';
import { InProcessIntegrationEvents } from '@el/messaging';
import { MeterRegistry, meteringConfigSpec, METERING_SCHEMA, UsageAlerts, UsageCounters, UsageLedger, type MeteringConfig } from '@el/metering-service';
import { Clock, readConfig, SystemClock } from '@el/platform';
import { openReadModels } from '@el/read-models';
import { SqliteEventStore } from '@el/event-store';
import { benchDir, fmt, machine, table } from './bench-util';

const N = Number(process.env['BENCH_USAGE_EVENTS'] ?? 200_000);
const BATCH = 1000;

async function main(): Promise<void> {
  const { dir, cleanup } = benchDir('metering');
  try {
    const ds = await openReadModels({ kind: 'sqlite', path: join(dir, 'metering.db') }, METERING_SCHEMA);
    const events = SqliteEventStore.open({ path: join(dir, 'events.db') });
    const registry = new MeterRegistry();
    const customers = 1000;
    const validFrom = new Date(Date.now() - 86_400_000).toISOString();
    for (let c = 0; c < customers; c++) {
      registry.apply({ entitlementId: `e-${c}`, customerId: `c-${c}`, validFrom, status: 'active', revision: 0, features: { api_calls: { meter: { period: 'month', cap: 1e12, capType: 'soft' } } } } as unknown as EntitlementV1);
    }
    const config: MeteringConfig = readConfig(meteringConfigSpec, { METERING_USAGE_GROUP: 'bench', METERING_USAGE_CONCURRENCY: '1' });
    const ledger = new UsageLedger(ds, config, registry, new UsageCounters(registry), new SystemClock() as Clock, new UsageAlerts(ds, new InProcessIntegrationEvents(events)), { label: 'bench', products: [], addOns: [] });
    const time = new Date().toISOString();
    const batches = Array.from({ length: Math.ceil(N / BATCH) }, (_, b) =>
      Array.from({ length: Math.min(BATCH, N - b * BATCH) }, (_, i) => {
        const n = b * BATCH + i;
        return { id: `evt-${n}`, source: 'urn:bench', type: 'io.ledger.usage.v1', subject: `c-${n % customers}`, time, data: { feature: 'api_calls', quantity: 1, userId: `u-${n % 5000}` } };
      }),
    );

    let t = performance.now();
    for (const b of batches) await ledger.ingest(b);
    const ingestS = (performance.now() - t) / 1000;
    t = performance.now();
    for (const b of batches) await ledger.ingest(b);
    const dupS = (performance.now() - t) / 1000;

    // Baseline: the same rows, one multi-row INSERT per 500 (the ledger's statement size), one transaction per batch, same indexes.
    await ds.query('CREATE TABLE raw_usage AS SELECT * FROM mt_usage_events WHERE 0');
    // The same indexes as the usage table: the primary key (source, id), the position, customer and time.
    await ds.query('CREATE UNIQUE INDEX raw_usage_pk ON raw_usage (source, id)');
    await ds.query('CREATE UNIQUE INDEX raw_usage_position ON raw_usage (position)');
    await ds.query('CREATE INDEX raw_usage_customer_time ON raw_usage (customer_id, event_time)');
    let position = 0;
    t = performance.now();
    for (const b of batches) {
      await ds.transaction(async (tx) => {
        for (let o = 0; o < b.length; o += 500) {
          const chunk = b.slice(o, o + 500);
          const params: unknown[] = [];
          const rows = chunk.map((e) => {
            params.push(e.source, `raw-${e.id}`, 'h'.repeat(64), e.subject, `e-${e.subject.slice(2)}`, 'api_calls', 1, e.data.userId, null, e.time, validFrom, position++, time);
            return '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
          });
          await tx.query(`INSERT INTO raw_usage VALUES ${rows.join(', ')}`, params);
        }
      });
    }
    const rawS = (performance.now() - t) / 1000;
    await ds.destroy();
    await events.close();

    process.stdout.write(`\nbench:metering — ${fmt(N)} usage events in batches of ${fmt(BATCH)}, SQLite (WAL, synchronous=NORMAL), ${machine()}\n\n`);
    process.stdout.write(
      table(
        ['path', 'events/s', 'seconds', 'vs raw insert'],
        [
          ['UsageLedger.ingest: new events (dedupe key, position, counter, one transaction per batch)', fmt(N / ingestS), fmt(ingestS, 2), `${fmt((N / ingestS / (N / rawS)) * 100, 1)} %`],
          ['UsageLedger.ingest: the same events again (all duplicates)', fmt(N / dupS), fmt(dupS, 2), `${fmt((N / dupS / (N / rawS)) * 100, 1)} %`],
          ['raw multi-row INSERT of the same rows (baseline)', fmt(N / rawS), fmt(rawS, 2), '100 %'],
        ],
      ) + '\n',
    );
  } finally {
    cleanup();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:metering failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
