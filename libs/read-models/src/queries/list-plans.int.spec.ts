import type { DataSource, QueryRunner } from 'typeorm';
import { describeBackend, READ_DB_BACKENDS, type TestReadDb } from '@el/testing';
import { ReadModelQueries, type EntitlementFilter } from './read-model-queries';
import { openTestReadModels } from '../testing/read-db';

/** A statement the queries ran, as the database received it. */
interface Ran {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/**
 * Every list query the read models answer — each filter combination, first
 * page and a page after a cursor — is planned by the database itself
 * (`EXPLAIN`), and must be served by an index that matches its filter and its
 * order: no table scan, no temporary sort. On PostgreSQL the planner is told
 * not to scan tables or sort (`enable_seqscan`, `enable_sort` off: on the tiny
 * tables of a test it would prefer both), so a plan that still does is one no
 * index can serve. The statements are the ones the code sends (recorded as
 * they run), not copies of them.
 */
for (const backend of READ_DB_BACKENDS) {
  describeBackend(backend, 'list queries are served by indexes (EXPLAIN)', () => {
    let db: TestReadDb;
    let ds: DataSource;
    let q: ReadModelQueries;
    let ran: Ran[] = [];
    let restore: () => void = () => undefined;

    beforeAll(async () => {
      db = await backend.create();
      ds = await openTestReadModels(db);
      q = new ReadModelQueries(ds);
      // Every statement of this data source, recorded as the driver receives it (and run as usual).
      const runner = ds.createQueryRunner();
      const proto = Object.getPrototypeOf(runner) as QueryRunner;
      await runner.release();
      const original = proto.query;
      proto.query = function (this: QueryRunner, sql: string, params?: unknown[], ...rest: unknown[]) {
        if (this.connection === ds && /^\s*SELECT/i.test(sql)) ran.push({ sql, params: params ?? [] });
        return (original as (...a: unknown[]) => Promise<unknown>).call(this, sql, params, ...rest);
      } as QueryRunner['query'];
      restore = () => (proto.query = original);
    });

    afterAll(async () => {
      restore();
      if (ds?.isInitialized) await ds.destroy();
      await db?.cleanup();
    });

    /** The plan of a statement: SQLite's EXPLAIN QUERY PLAN lines, or PostgreSQL's EXPLAIN with table scans and sorts disabled. */
    async function planOf(r: Ran): Promise<string[]> {
      if (ds.options.type !== 'postgres') {
        const rows = (await ds.query(`EXPLAIN QUERY PLAN ${r.sql}`, [...r.params])) as { detail: string }[];
        return rows.map((row) => row.detail);
      }
      return ds.transaction(async (m) => {
        await m.query('SET LOCAL enable_seqscan = off');
        await m.query('SET LOCAL enable_sort = off');
        const rows = (await m.query(`EXPLAIN ${r.sql}`, [...r.params])) as { 'QUERY PLAN': string }[];
        return rows.map((row) => row['QUERY PLAN']);
      });
    }

    /** What is wrong with a plan: a table scan, a temporary sort, or (with an equality filter) a scan of a whole index. */
    function problems(plan: readonly string[], filtered: boolean): string[] {
      if (ds.options.type === 'postgres') return plan.filter((line) => /Seq Scan|(^|\s|>)Sort\b|Sort Key/.test(line));
      // The one-row constant a customer's states are joined to (so that the position comes without entitlements) is no table.
      const constantRow = (line: string) => /^SCAN (CONSTANT ROW|one)$/.test(line);
      return plan.filter((line) => !constantRow(line) && (/^SCAN \S+$/.test(line) || /TEMP B-TREE/.test(line) || (filtered && /^SCAN /.test(line))));
    }

    /** Runs `call` (both its first page and the page after a cursor), and checks the plan of every SELECT it sent. */
    async function expectIndexed(label: string, call: (cursor: string | undefined) => Promise<{ nextCursor: string | null }>, filtered: boolean): Promise<void> {
      ran = [];
      const first = await call(undefined);
      // A page after a cursor (the cursor of a one-row page when the table is empty: a made-up but valid one).
      await call(first.nextCursor ?? undefined);
      expect(ran.length).toBeGreaterThan(0);
      for (const r of ran) {
        const plan = await planOf(r);
        expect({ query: label, sql: r.sql, plan, problems: problems(plan, filtered) }).toEqual({ query: label, sql: r.sql, plan, problems: [] });
      }
    }

    const now = new Date('2026-12-01T00:00:00Z');
    const cursorOf = (parts: string[]) => Buffer.from(JSON.stringify(parts)).toString('base64url');

    it('lists entitlements with every filter combination, ordered by grant (or by end of validity when expiring)', async () => {
      const filters: { label: string; filter: EntitlementFilter; filtered: boolean }[] = [];
      for (const customerId of [undefined, 'cust-1'])
        for (const productId of [undefined, 'analytics'])
          for (const status of [undefined, 'active'] as const)
            for (const expiringWithinDays of [undefined, 30]) {
              const filter = { now, ...(customerId ? { customerId } : {}), ...(productId ? { productId } : {}), ...(status ? { status } : {}), ...(expiringWithinDays ? { expiringWithinDays } : {}) } as EntitlementFilter;
              filters.push({ label: `entitlements ${JSON.stringify({ customerId, productId, status, expiringWithinDays })}`, filter, filtered: Boolean(customerId || productId || status || expiringWithinDays) });
            }
      for (const f of filters) {
        const sortKey = f.filter.expiringWithinDays ? '2026-12-15T00:00:00.000Z' : '2026-01-01T00:00:00.000Z';
        await expectIndexed(f.label, (cursor) => q.listEntitlements(f.filter, { limit: 50, cursor: cursor ?? cursorOf([sortKey, 'ent-1']) }), true);
        await expectIndexed(`${f.label}, first page`, () => q.listEntitlements(f.filter, { limit: 50 }), f.filtered);
      }
    });

    it('lists orders, access requests and seat assignments with every filter combination', async () => {
      for (const customerId of [undefined, 'cust-1'])
        for (const status of [undefined, 'fulfilled'] as const) {
          const filter = { ...(customerId ? { customerId } : {}), ...(status ? { status } : {}) };
          await expectIndexed(`orders ${JSON.stringify(filter)}`, (cursor) => q.listOrders(filter, { limit: 50, ...(cursor ? { cursor } : {}) }), Boolean(customerId || status));
          await expectIndexed(`orders ${JSON.stringify(filter)} after a cursor`, () => q.listOrders(filter, { limit: 50, cursor: cursorOf(['2026-01-01T00:00:00.000Z', 'SO-1']) }), true);
        }
      for (const customerId of [undefined, 'cust-1'])
        for (const status of [undefined, 'pending'] as const) {
          const filter = { ...(customerId ? { customerId } : {}), ...(status ? { status } : {}) };
          await expectIndexed(`access requests ${JSON.stringify(filter)}`, () => q.listAccessRequests(filter, { limit: 50 }), Boolean(customerId || status));
          await expectIndexed(`access requests ${JSON.stringify(filter)} after a cursor`, () => q.listAccessRequests(filter, { limit: 50, cursor: cursorOf(['2026-01-01T00:00:00.000Z', 'req-1']) }), true);
        }
      await expectIndexed('seat assignments', () => q.listSeatAssignments('ent-1', { limit: 50 }), true);
      await expectIndexed('seat assignments after a cursor', () => q.listSeatAssignments('ent-1', { limit: 50, cursor: cursorOf(['user-1', 'ent-1']) }), true);
    });

    it("serves a customer's entitlements (license tokens), the customer search and the sweeps from indexes", async () => {
      await expectIndexed("a customer's entitlement states", async () => (await q.customerEntitlementStates('cust-1', 'read-models'), { nextCursor: null }), true);
      await expectIndexed('customer search by prefix', () => q.searchCustomers({ prefix: 'cust-', within: null }, { limit: 50 }), true);
      await expectIndexed('customer search after a cursor', () => q.searchCustomers({ prefix: 'cust-', within: null }, { limit: 50, cursor: cursorOf(['cust-1']) }), true);
      await expectIndexed('entitlements due to expire', async () => (await q.dueToExpire(now), { nextCursor: null }), true);
      await expectIndexed('unfinished orders', async () => (await q.unfinishedOrders(now), { nextCursor: null }), true);
      await expectIndexed('unfulfilled approvals', async () => (await q.unfulfilledApprovals(now), { nextCursor: null }), true);
      await expectIndexed('dunning due', async () => (await q.dunningDue(now), { nextCursor: null }), true);
    });
  });
}
