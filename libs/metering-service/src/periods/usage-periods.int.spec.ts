import type { CommandBus } from '@nestjs/cqrs';
import type { DataSource } from 'typeorm';
import { type EntitlementV1, type UsageCorrectionV1 } from '@el/contracts';
import type { EventStore } from '@el/event-store';
import { InProcessIntegrationEvents } from '@el/messaging';
import { Clock, readConfig, systemPrincipal, type Principal, type RequestContext } from '@el/platform';
import { openReadModels, type ReadDbConfig } from '@el/read-models';
import { tempEventStore } from '@el/read-models/testing';
import { describeBackend, READ_DB_BACKENDS, type TestReadDb } from '@el/testing';
import { CloseUsagePeriodHandler } from '../close-usage-period/close-usage-period.handler';
import { UsagePeriodCloser } from '../close-usage-period/usage-period-closer';
import { CorrectUsageCommand } from '../correct-usage/correct-usage.command';
import { CorrectUsageHandler } from '../correct-usage/correct-usage.handler';
import { ExportUsageHandler, ExportUsageQuery } from '../export-usage/export-usage.query';
import { MeterRegistry } from '../meters/meter-registry';
import { meteringConfigSpec, type MeteringConfig } from '../metering.config';
import { rebuildMeteringCounters } from '../rebuild/rebuild-counters';
import { METERING_SCHEMA } from '../store/schema';
import { UsageAlerts } from '../usage/usage-alerts';
import { UsageCounters } from '../usage/usage-counters';
import { UsageLedger } from '../usage/usage-ledger';
import { ClosedPeriods } from './closed-periods';
import { ClosedPeriodsLoader } from './closed-periods.loader';
import { UsagePeriodStore } from './usage-period-store';
import { UsagePeriodStreams } from './usage-period-streams';

/** A clock the test moves: time passes without sleeping. */
class TestClock extends Clock {
  constructor(private at: number) {
    super();
  }
  now(): Date {
    return new Date(this.at);
  }
  set(iso: string): void {
    this.at = Date.parse(iso);
  }
}

const NOW = '2026-12-01T12:00:00.000Z';
// Monthly periods anchored at the start: [10-30 09:30, 11-30 09:30), [11-30 09:30, 12-30 09:30).
const FIRST = '2026-10-30T09:30:00.000Z';
const SECOND = '2026-11-30T09:30:00.000Z';
// The first period's end + 72 h lateness + 300 s settling.
const FIRST_CLOSABLE = '2026-12-03T09:35:00.000Z';
const config: MeteringConfig = readConfig(meteringConfigSpec, { USAGE_CLOSE_INTERVAL_MS: '0' });
const entitlement = { entitlementId: 'e-1', customerId: 'acme', validFrom: FIRST, status: 'active', revision: 0, features: { api_calls: { meter: { period: 'month', cap: 100, capType: 'soft' } } } } as unknown as EntitlementV1;
const other = { entitlementId: 'e-2', customerId: 'globex', validFrom: FIRST, status: 'active', revision: 0, features: { api_calls: { meter: { period: 'month', cap: 50, capType: 'hard' } } } } as unknown as EntitlementV1;
const event = (id: string, quantity: number, time: string, subject = 'acme') => ({ id, source: 'urn:app:a', type: 'io.ledger.usage.v1', subject, time, data: { feature: 'api_calls', quantity } });
const operator: RequestContext = { requestId: 'r-1', correlationId: 'c-1', actor: { type: 'operator', id: 'key:ops' }, principal: { id: 'key:ops', kind: 'api-key', role: 'operator', name: 'ops', customers: null } as Principal, source: 'api' };
const correction = (over: Partial<UsageCorrectionV1> = {}): UsageCorrectionV1 => ({
  correctionId: 'corr-1',
  customerId: 'acme',
  entitlementId: 'e-1',
  feature: 'api_calls',
  periodStart: FIRST,
  quantity: -30,
  reason: 'retried batch counted twice, "dup", see ticket 7',
  corrects: [{ source: 'urn:app:a', id: 'a-2' }],
  ...over,
});

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** A metering process over a shared metering store and event store: its own connection, registry, counters and closer. */
async function meteringProcess(db: ReadDbConfig, store: EventStore, clock: TestClock, over: Partial<MeteringConfig> = {}) {
  const cfg = { ...config, ...over };
  const ds = await openReadModels(db, METERING_SCHEMA);
  const registry = new MeterRegistry();
  registry.apply(entitlement);
  registry.apply(other);
  const counters = new UsageCounters(registry);
  const periods = new UsagePeriodStore(ds);
  const streams = new UsagePeriodStreams(store);
  const closed = new ClosedPeriods();
  await new ClosedPeriodsLoader(cfg, periods, closed, clock).load();
  const ledger = new UsageLedger(ds, cfg, registry, counters, clock, new UsageAlerts(ds, new InProcessIntegrationEvents(store)), { label: 'none', products: [], addOns: [] }, closed);
  await ledger.load();
  const close = new CloseUsagePeriodHandler(cfg, registry, periods, streams, closed, counters, clock);
  const correct = new CorrectUsageHandler(registry, periods, streams, counters, clock);
  const exporter = new ExportUsageHandler(registry, periods, clock);
  // The command bus routes the closer's commands to the close handler (what CqrsModule does in the app).
  const bus = { execute: (c: never) => close.execute(c) } as unknown as CommandBus;
  const closer = new UsagePeriodCloser(cfg, registry, closed, periods, bus, clock);
  const exportText = async (period: string, options: { format?: 'csv' | 'jsonl'; lines?: 'summary' | 'events'; viewer?: Principal; customerId?: string } = {}) => {
    const out = await exporter.execute(new ExportUsageQuery(period, options.format ?? 'csv', options.lines ?? 'summary', options.viewer ?? systemPrincipal('test'), options.customerId));
    let text = '';
    for await (const piece of out.body) text += piece;
    return text;
  };
  return { ds, ledger, counters, closer, correct: (c: UsageCorrectionV1, ctx = operator) => correct.execute(new CorrectUsageCommand(c, ctx)), exportText, registry };
}

const codeOf = async (p: Promise<unknown>): Promise<string | undefined> => p.then(
  () => undefined,
  (err: { code?: string }) => err.code,
);

for (const backend of READ_DB_BACKENDS) {
  describeBackend(backend, 'usage periods: corrections, close, export, rebuild', () => {
    let db: TestReadDb;
    let events: { store: EventStore; cleanup(): Promise<void> };
    let clock: TestClock;
    const opened: DataSource[] = [];
    beforeEach(async () => {
      db = await backend.create();
      events = tempEventStore();
      cleanups.push(events.cleanup);
      clock = new TestClock(Date.parse(NOW));
    });
    afterEach(async () => {
      for (const ds of opened.splice(0)) await ds.destroy();
      await db.cleanup();
    });
    const open = async (over: Partial<MeteringConfig> = {}) => {
      const p = await meteringProcess(db.kind === 'sqlite' ? { kind: 'sqlite', path: db.path } : { kind: 'postgres', url: db.url, poolSize: 5 }, events.store, clock, over);
      opened.push(p.ds);
      return p;
    };
    const streamEvents = async () => (await events.store.readAll()).filter((r) => r.stream.startsWith('usage-'));

    it('a correction moves the counter once, is recorded with who and why, and leaves the usage events as they were', async () => {
      const m = await open();
      await m.ledger.ingest([event('a-1', 40, '2026-11-29T10:00:00Z'), event('a-2', 30, '2026-11-29T11:00:00Z')]);
      const first = await m.correct(correction());
      expect(first).toMatchObject({ correctionId: 'corr-1', entitlementId: 'e-1', periodStart: FIRST, periodEnd: SECOND, quantity: -30, replayed: false });
      // Read-your-usage: the correction takes a usage position after the events'.
      expect(first.position).toBe(3);
      expect(m.counters.position).toBe(3);
      const again = await m.correct(correction());
      expect(again).toMatchObject({ position: first.position, eventPosition: first.eventPosition, replayed: true });
      expect(m.counters.lookup('e-1', 'api_calls', 'month', Date.parse(FIRST))).toBe(40);
      const recorded = await streamEvents();
      expect(recorded.map((r) => [r.stream, r.type])).toEqual([[`usage-e-1/api_calls/${FIRST}`, 'UsageCorrected']]);
      expect(recorded[0]!.metadata).toMatchObject({ actor: { type: 'operator', id: 'key:ops' }, recordedAt: NOW });
      expect(recorded[0]!.data).toMatchObject({ reason: correction().reason, corrects: [{ source: 'urn:app:a', id: 'a-2' }] });
      // The same id with another content, or for another period, is refused; nothing more is recorded.
      expect(await codeOf(m.correct(correction({ quantity: -31 })))).toBe('USAGE.CORRECTION_ID_REUSED');
      expect(await codeOf(m.correct(correction({ periodStart: SECOND })))).toBe('USAGE.CORRECTION_ID_REUSED');
      expect(await codeOf(m.correct(correction({ correctionId: 'x', entitlementId: 'e-9' })))).toBe('USAGE.UNKNOWN_ENTITLEMENT');
      expect(await codeOf(m.correct(correction({ correctionId: 'x', feature: 'teleport' })))).toBe('USAGE.UNKNOWN_FEATURE');
      expect(await codeOf(m.correct(correction({ correctionId: 'x', customerId: 'nobody' })))).toBe('USAGE.UNKNOWN_CUSTOMER');
      expect(await codeOf(m.correct(correction({ correctionId: 'x', periodStart: '2026-11-01T00:00:00.000Z' })))).toBe('USAGE.NOT_A_PERIOD_START');
      // A scoped credential does not see another customer's entitlements.
      const globexOnly = { ...operator, principal: { ...operator.principal, customers: ['globex'] } };
      expect(await codeOf(m.correct(correction({ correctionId: 'x' }), globexOnly))).toBe('USAGE.UNKNOWN_CUSTOMER');
      expect(await streamEvents()).toHaveLength(1);
      const raw = await m.ds.query(`SELECT id, quantity FROM mt_usage_events ORDER BY position`);
      expect(raw.map((r: { id: string; quantity: unknown }) => [r.id, Number(r.quantity)])).toEqual([
        ['a-1', 40],
        ['a-2', 30],
      ]);
    });

    it('two closers racing close a due period once; afterwards corrections and usage in it are refused', async () => {
      const [a, b] = [await open(), await open()];
      await a.ledger.ingest([event('a-1', 70, '2026-11-29T10:00:00Z'), event('a-2', 50, '2026-11-29T11:00:00Z'), event('b-1', 9, '2026-12-01T10:00:00Z')]);
      await a.correct(correction({ quantity: -10, corrects: [] }));
      // Not due yet: nothing closes.
      clock.set('2026-12-03T09:34:59.000Z');
      expect(await a.closer.sweep()).toBe(0);
      clock.set(FIRST_CLOSABLE);
      const [closedByA, closedByB] = await Promise.all([a.closer.sweep(), b.closer.sweep()]);
      // Two due periods (acme's and globex's first months), each closed once by one of the two.
      expect(closedByA + closedByB).toBe(2);
      const closes = (await streamEvents()).filter((r) => r.type === 'UsagePeriodClosed');
      expect(closes.map((r) => r.stream).sort()).toEqual([`usage-e-1/api_calls/${FIRST}`, `usage-e-2/api_calls/${FIRST}`]);
      expect(closes.find((r) => r.stream.startsWith('usage-e-1'))!.data).toMatchObject({
        customerId: 'acme',
        included: 100,
        capType: 'soft',
        usage: 120,
        corrections: { count: 1, total: -10 },
        billable: 110,
        overage: 10,
        events: 2,
        firstPosition: 1,
        lastPosition: 2,
        closedAt: FIRST_CLOSABLE,
      });
      expect(closes[0]!.metadata).toMatchObject({ actor: { type: 'system', id: 'usage-period-closer' }, source: 'system' });
      // Later passes (of either process) record nothing more.
      clock.set('2026-12-04T00:00:00.000Z');
      expect((await a.closer.sweep()) + (await b.closer.sweep())).toBe(0);
      expect((await streamEvents()).filter((r) => r.type === 'UsagePeriodClosed')).toHaveLength(2);

      expect(await codeOf(a.correct(correction({ correctionId: 'late', quantity: 5 })))).toBe('USAGE.PERIOD_CLOSED');
      // A retry of a correction made before the close still answers as recorded.
      expect(await a.correct(correction({ quantity: -10, corrects: [] }))).toMatchObject({ replayed: true });
      // With the lateness window as configured, that usage is too late anyway; with a wider one (raised after the close) the closed period refuses it.
      expect((await a.ledger.ingest([event('a-9', 1, '2026-11-29T12:00:00Z')]))[0]).toMatchObject({ status: 'rejected', code: 'USAGE.TOO_LATE' });
      const wider = await open({ USAGE_LATENESS_HOURS: 24 * 30 });
      expect((await wider.ledger.ingest([event('a-9', 1, '2026-11-29T12:00:00Z'), event('a-10', 1, '2026-12-01T12:00:00Z')])).map((r) => r.code ?? r.status)).toEqual(['USAGE.PERIOD_CLOSED', 'accepted']);
    });

    it('exports usage with corrections; a closed period exports identically after the counters are dropped and rebuilt from the raw events', async () => {
      const m = await open();
      await m.ledger.ingest([event('a-1', 70, '2026-11-29T10:00:00Z'), event('a-2', 50, '2026-11-29T11:00:00Z'), event('g-1', 5, '2026-11-29T11:00:00Z', 'globex'), event('b-1', 9, '2026-12-01T10:00:00Z')]);
      await m.correct(correction({ quantity: -30 }));
      await m.correct(correction({ correctionId: 'corr-2', periodStart: SECOND, quantity: 4, reason: 'missed, by hand', corrects: [] }));
      const open1 = await m.exportText('2026-10');
      expect(open1.split('\r\n')).toEqual([
        'customerId,entitlementId,feature,period,periodStart,periodEnd,included,capType,usage,corrections,correctionsCount,billable,overage,events,firstPosition,lastPosition,throughPosition,closed,closedAt,lineage',
        `acme,e-1,api_calls,month,${FIRST},${SECOND},100,soft,120,-30,1,90,0,2,1,2,,false,,/v1/usage/export?period=2026-10-30T09%3A30%3A00.000Z&customerId=acme&lines=events&format=csv`,
        `globex,e-2,api_calls,month,${FIRST},${SECOND},50,hard,5,0,0,5,0,1,3,3,,false,,/v1/usage/export?period=2026-10-30T09%3A30%3A00.000Z&customerId=globex&lines=events&format=csv`,
        '',
      ]);
      // Scoped to one customer: only its rows.
      expect((await m.exportText('2026-10', { viewer: { ...operator.principal, customers: ['globex'] } })).split('\r\n')).toHaveLength(3);
      // The lineage: each raw event and each correction, in position order, CSV-escaped.
      const lines = await m.exportText(FIRST, { lines: 'events', customerId: 'acme' });
      expect(lines.split('\r\n').slice(1, -1).map((l) => l.split(',').slice(0, 11).join(','))).toEqual([
        `usage,acme,e-1,api_calls,${FIRST},false,1,urn:app:a,a-1,2026-11-29T10:00:00.000Z,70`,
        `usage,acme,e-1,api_calls,${FIRST},false,2,urn:app:a,a-2,2026-11-29T11:00:00.000Z,50`,
        `correction,acme,e-1,api_calls,${FIRST},false,5,,,,-30`,
      ]);
      expect(lines).toContain('"retried batch counted twice, ""dup"", see ticket 7","[{""source"":""urn:app:a"",""id"":""a-2""}]",operator:key:ops');

      clock.set(FIRST_CLOSABLE);
      expect(await m.closer.sweep()).toBe(2);
      const closedCsv = await m.exportText('2026-10');
      const closedJsonl = await m.exportText('2026-10', { format: 'jsonl' });
      const closedLines = await m.exportText('2026-10', { lines: 'events' });
      const openNov = await m.exportText('2026-11');
      expect(closedCsv.split('\r\n')[1]).toBe(`acme,e-1,api_calls,month,${FIRST},${SECOND},100,soft,120,-30,1,90,0,2,1,2,6,true,${FIRST_CLOSABLE},/v1/usage/export?period=2026-10-30T09%3A30%3A00.000Z&customerId=acme&lines=events&format=csv`);
      expect(JSON.parse(closedJsonl.split('\n')[0]!)).toMatchObject({ customerId: 'acme', included: 100, usage: 120, corrections: -30, billable: 90, overage: 0, closed: true, throughPosition: 6 });
      expect(openNov).toContain(`acme,e-1,api_calls,month,${SECOND},2026-12-30T09:30:00.000Z,100,soft,9,4,1,13,0,1,4,4,,false,`);

      // Drop the counters; rebuild them from the raw events and corrections.
      await m.ds.query('DELETE FROM mt_counters');
      const progress: string[] = [];
      const rebuilt = await rebuildMeteringCounters(m.ds, (p) => progress.push(p.phase));
      expect(rebuilt).toMatchObject({ events: 4, corrections: 2, counters: 3 });
      expect(progress).toEqual(expect.arrayContaining(['events', 'corrections', 'write', 'done']));
      expect(await m.exportText('2026-10')).toBe(closedCsv);
      expect(await m.exportText('2026-10', { format: 'jsonl' })).toBe(closedJsonl);
      expect(await m.exportText('2026-10', { lines: 'events' })).toBe(closedLines);
      expect(await m.exportText('2026-11')).toBe(openNov);
      const counters = await m.ds.query('SELECT entitlement_id, period_start, value, events FROM mt_counters ORDER BY entitlement_id, period_start');
      expect(counters.map((r: { entitlement_id: string; period_start: string; value: unknown; events: unknown }) => [r.entitlement_id, r.period_start, Number(r.value), Number(r.events)])).toEqual([
        ['e-1', FIRST, 90, 2],
        ['e-1', SECOND, 13, 1],
        ['e-2', FIRST, 5, 1],
      ]);
      // A restarted process loads the rebuilt counters.
      const restarted = await open();
      expect(restarted.counters.lookup('e-1', 'api_calls', 'month', Date.parse(SECOND))).toBe(13);
    });

    it('a correction recorded in the event store but not yet in the metering store (a crash in between) is applied by the close', async () => {
      const m = await open();
      await m.ledger.ingest([event('a-1', 70, '2026-11-29T10:00:00Z')]);
      // The first write only: the event, as the handler appends it, without the store's side.
      const streams = new UsagePeriodStreams(events.store);
      await streams.decide(`usage-e-1/api_calls/${FIRST}`, 'crash-1', async () => ({
        type: 'CorrectUsage',
        data: { customerId: 'acme', entitlementId: 'e-1', feature: 'api_calls', period: 'month', periodStart: FIRST, periodEnd: SECOND, correctionId: 'corr-crash', quantity: 5, reason: 'crash test', corrects: [], fingerprint: 'f' },
        metadata: { now: NOW, correlationId: 'c', causationId: 'c', actor: { type: 'operator', id: 'key:ops' }, source: 'api' },
      }));
      expect(await m.ds.query('SELECT correction_id FROM mt_corrections')).toEqual([]);
      clock.set(FIRST_CLOSABLE);
      await m.closer.sweep();
      const close = (await streamEvents()).find((r) => r.type === 'UsagePeriodClosed' && r.stream.startsWith('usage-e-1'))!;
      expect(close.data).toMatchObject({ usage: 70, corrections: { count: 1, total: 5 }, billable: 75 });
      expect((await m.ds.query('SELECT correction_id FROM mt_corrections')).map((r: { correction_id: string }) => r.correction_id)).toEqual(['corr-crash']);
      expect(m.counters.lookup('e-1', 'api_calls', 'month', Date.parse(FIRST))).toBe(75);
    });
  });
}
