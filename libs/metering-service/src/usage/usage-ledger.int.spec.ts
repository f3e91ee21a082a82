import type { DataSource } from 'typeorm';
import type { EntitlementV1 } from '@el/contracts';
import { Clock, loadDocumentFile, readConfig } from '@el/platform';
import { catalogDocument } from '@el/domain';
import { join } from 'node:path';
import { openReadModels, type ReadDbConfig } from '@el/read-models';
import { describeBackend, READ_DB_BACKENDS, type TestReadDb } from '@el/testing';
import { MeterRegistry } from '../meters/meter-registry';
import { meteringConfigSpec, type MeteringConfig } from '../metering.config';
import { METERING_SCHEMA } from '../store/schema';
import { UsageCounters } from './usage-counters';
import { UsageLedger } from './usage-ledger';
import { UsageAlerts } from './usage-alerts';
import { rebuildMeteringCounters } from '../rebuild/rebuild-counters';
import { TOPICS, type UsageAlertV1 } from '@el/contracts';
import { InProcessIntegrationEvents, jsonOf } from '@el/messaging';
import { tempEventStore } from '@el/read-models/testing';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0)) await c();
});

class FixedClock extends Clock {
  constructor(private readonly at: string) {
    super();
  }
  now(): Date {
    return new Date(this.at);
  }
}

const NOW = '2026-12-01T12:00:00.000Z';
const CATALOG_PATH = join(__dirname, '../../../../catalog/sample-catalog.yaml');
const catalog = loadDocumentFile(CATALOG_PATH, { variable: 'CATALOG_PATH', what: 'catalog', errorName: 'CatalogLoadError', parse: catalogDocument });
// The defaults (thresholds 80 and 100 %, 72 h lateness, 300 s of clock skew), as a service reads them.
const config: MeteringConfig = readConfig(meteringConfigSpec, { CATALOG_PATH });
const entitlement = {
  entitlementId: 'e-1',
  customerId: 'acme',
  productId: 'analytics',
  tier: 0,
  validFrom: '2026-10-30T09:30:00.000Z',
  status: 'active',
  revision: 0,
  features: {
    api_calls: { meter: { period: 'month', cap: 1000, capType: 'hard' } },
    exports: { meter: { period: 'month', cap: 10, capType: 'hard', aggregation: 'count' } },
    sessions: { meter: { period: 'day', cap: 50, capType: 'soft', aggregation: 'max' } },
    renderers: { meter: { period: 'month', cap: 5, capType: 'soft', aggregation: 'unique_count', of: 'userId' } },
  },
} as unknown as EntitlementV1;
const event = (id: string, quantity: number, time = '2026-12-01T11:00:00.000Z', feature = 'api_calls', extra: Record<string, string> = {}) => ({ id, source: 'urn:app:a', type: 'io.ledger.usage.v1', subject: 'acme', time, data: { feature, quantity, ...extra } });

/** A metering process: its own connection to the shared store, its own counters. */
async function meteringProcess(db: ReadDbConfig): Promise<{ ds: DataSource; ledger: UsageLedger; counters: UsageCounters; alerts: UsageAlerts; published: UsageAlertV1[] }> {
  const ds = await openReadModels(db, METERING_SCHEMA);
  // Alerts go out on the in-process bus (a local fan-out here); the test listens to them.
  const events = tempEventStore();
  cleanups.push(events.cleanup);
  const bus = new InProcessIntegrationEvents(events.store);
  const published: UsageAlertV1[] = [];
  await bus.consume(TOPICS.alerts, 'test', async (m) => void published.push(jsonOf<UsageAlertV1>(m)));
  const alerts = new UsageAlerts(ds, bus);
  const registry = new MeterRegistry();
  registry.apply(entitlement);
  const counters = new UsageCounters(registry);
  const ledger = new UsageLedger(ds, config, registry, counters, new FixedClock(NOW), alerts, catalog);
  await ledger.load();
  return { ds, ledger, counters, alerts, published };
}

for (const backend of READ_DB_BACKENDS) {
  describeBackend(backend, 'usage ledger', () => {
    let db: TestReadDb;
    const opened: DataSource[] = [];
    beforeEach(async () => (db = await backend.create()));
    afterEach(async () => {
      for (const ds of opened.splice(0)) await ds.destroy();
      await db.cleanup();
    });
    const open = async () => {
      const p = await meteringProcess(db.kind === 'sqlite' ? { kind: 'sqlite', path: db.path } : { kind: 'postgres', url: db.url, poolSize: 5 });
      opened.push(p.ds);
      return p;
    };
    const counterRow = async (ds: DataSource) => ds.query(`SELECT value, events FROM mt_counters WHERE entitlement_id = 'e-1' AND feature = 'api_calls' AND period_start = '2026-11-30T09:30:00.000Z'`);

    it('migrations create exactly the schema the entities describe', async () => {
      const { ds } = await open();
      const pending = await ds.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((q) => q.query)).toEqual([]);
      expect(await ds.runMigrations()).toEqual([]);
    });

    it('redelivery and replay of the same events leave the counter unchanged', async () => {
      const { ds, ledger, counters } = await open();
      const batch = [event('a', 10), event('b', 20), event('c', 30)];
      expect((await ledger.ingest(batch)).map((r) => r.status)).toEqual(['accepted', 'accepted', 'accepted']);
      expect((await ledger.ingest(batch)).map((r) => r.status)).toEqual(['duplicate', 'duplicate', 'duplicate']);
      expect((await ledger.ingest([batch[1]!, event('d', 5)])).map((r) => r.status)).toEqual(['duplicate', 'accepted']);
      expect((await ledger.ingest([event('a', 11)]))[0]).toMatchObject({ status: 'rejected', code: 'USAGE.ID_REUSED' });
      expect((await counterRow(ds)).map((r: { value: unknown; events: unknown }) => [Number(r.value), Number(r.events)])).toEqual([[65, 4]]);
      expect(counters.lookup('e-1', 'api_calls', 'month', Date.parse(NOW))).toBe(65);
      const events = await ds.query('SELECT COUNT(*) AS n FROM mt_usage_events');
      expect(Number(events[0].n)).toBe(4);
    });

    it('raises each threshold once per period, however the usage arrives', async () => {
      const { ledger, alerts, published } = await open();
      await ledger.ingest([event('t-1', 700)]);
      await ledger.ingest([event('t-2', 99), event('t-1', 700)]);
      expect(published).toEqual([]);
      await ledger.ingest([event('t-3', 1), event('t-4', 150)]); // 800 = 80 % of 1000
      await ledger.ingest([event('t-5', 250), event('t-3', 1)]); // 1050: past 100 %
      await ledger.ingest([event('t-6', 500)]); // still past 100 %: nothing new
      expect(published.map((a) => [a.threshold, a.used, a.id])).toEqual([
        [80, 950, 'e-1:api_calls:2026-11-30T09:30:00.000Z:80'],
        [100, 1200, 'e-1:api_calls:2026-11-30T09:30:00.000Z:100'],
      ]);
      expect((await alerts.ofCustomer('acme')).map((a) => a.threshold)).toEqual([100, 80]);
      // The upgrade that lifts the cap: the analytics plan above Free whose api_calls cap is higher.
      expect(published[0]!.upgradeHint).toEqual({ kind: 'plan', sku: 'ANL-PRO', name: 'Analytics Pro', productId: 'analytics' });
      expect((await alerts.ofCustomer('acme'))[0]!.upgradeHint).toEqual(published[0]!.upgradeHint);
    });

    it('counts, keeps the maximum, or counts distinct users as the meter says, exactly once under redelivery', async () => {
      const { ds, ledger, counters, published } = await open();
      const at = Date.parse(NOW);
      const user = (u: string) => ({ userId: u });
      const batch = [
        event('x-1', 7, undefined, 'exports'),
        event('x-2', 3, undefined, 'exports'),
        event('s-1', 12, undefined, 'sessions'),
        event('s-2', 40, undefined, 'sessions'),
        event('s-3', 20, undefined, 'sessions'),
        event('r-1', 1, undefined, 'renderers', user('ann')),
        event('r-2', 1, undefined, 'renderers', user('bob')),
        event('r-3', 1, undefined, 'renderers', user('ann')),
      ];
      expect((await ledger.ingest(batch)).every((r) => r.status === 'accepted')).toBe(true);
      expect((await ledger.ingest(batch)).every((r) => r.status === 'duplicate')).toBe(true);
      expect([counters.lookup('e-1', 'exports', 'month', at), counters.lookup('e-1', 'sessions', 'day', at), counters.lookup('e-1', 'renderers', 'month', at)]).toEqual([2, 40, 2]);
      // A lower maximum changes nothing; a known user counts no more; a new one does.
      await ledger.ingest([event('s-4', 30, undefined, 'sessions'), event('r-4', 1, undefined, 'renderers', user('bob')), event('r-5', 1, undefined, 'renderers', user('cy'))]);
      expect([counters.lookup('e-1', 'sessions', 'day', at), counters.lookup('e-1', 'renderers', 'month', at)]).toEqual([40, 3]);
      // Another process reading the store sees the same values.
      const rows: { feature: string; value: number | string }[] = await ds.query(`SELECT feature, value FROM mt_counters WHERE feature <> 'api_calls' ORDER BY feature`);
      expect(rows.map((r) => [r.feature, Number(r.value)])).toEqual([['exports', 2], ['renderers', 3], ['sessions', 40]]);
      // 40 of 50 sessions = 80 %: the maximum crossed a threshold without any "value before".
      expect(published.map((a) => [a.feature, a.threshold, a.used])).toEqual([['sessions', 80, 40]]);
      // A unique-count meter needs its field.
      expect((await ledger.ingest([event('r-6', 1, undefined, 'renderers')]))[0]).toMatchObject({ status: 'rejected', code: 'USAGE.MISSING_FIELD' });
      // Each raw event says how it was counted: the counters and distinct values rebuild from them alone.
      const all = async () => [await ds.query('SELECT entitlement_id, feature, period_start, value, events FROM mt_counters ORDER BY feature, period_start'), await ds.query('SELECT * FROM mt_unique_values ORDER BY value')];
      const before = JSON.stringify(await all());
      await ds.query('DELETE FROM mt_counters');
      await ds.query('DELETE FROM mt_unique_values');
      await rebuildMeteringCounters(ds);
      expect(JSON.stringify(await all())).toBe(before);
    });

    it('a new period starts at the anchor: usage before it counts in the previous one', async () => {
      const { ledger, counters } = await open();
      const r = await ledger.ingest([event('p1', 7, '2026-11-30T09:29:59.000Z'), event('p2', 9, '2026-11-30T09:30:00.000Z')]);
      expect(r.map((x) => x.status)).toEqual(['accepted', 'accepted']);
      expect(counters.lookup('e-1', 'api_calls', 'month', Date.parse('2026-11-30T09:00:00Z'))).toBe(7);
      expect(counters.lookup('e-1', 'api_calls', 'month', Date.parse(NOW))).toBe(9);
    });

    it('the same events ingested concurrently are counted exactly once (PostgreSQL: by several processes)', async () => {
      // SQLite is the embedded store of one process: there, concurrent requests share its connection.
      const one = backend.name === 'sqlite' ? await open() : null;
      const processes = one ? [one, one, one] : await Promise.all([open(), open(), open()]);
      const events = Array.from({ length: 300 }, (_, i) => event(`c-${i}`, 1));
      // Each process gets every event, in its own order and batches, at the same time.
      const answers = await Promise.all(
        processes.map(async (p, n) => {
          const mine = n === 1 ? [...events].reverse() : events;
          const out = [];
          for (let i = 0; i < mine.length; i += 50 + n * 25) out.push(...(await p.ledger.ingest(mine.slice(i, i + 50 + n * 25))));
          return out;
        }),
      );
      const accepted = answers.flat().filter((r) => r.status === 'accepted').length;
      expect(accepted).toBe(300);
      expect(answers.flat().filter((r) => r.status === 'rejected')).toEqual([]);
      expect((await counterRow(processes[0]!.ds)).map((r: { value: unknown }) => Number(r.value))).toEqual([300]);
    });
  });
}
