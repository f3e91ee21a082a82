import { describeBackend, READ_DB_BACKENDS, type TestReadDb } from '@el/testing';
import { startLedgerApp, type LedgerTestApp } from '../testing/ledger-test-app';

for (const backend of READ_DB_BACKENDS) {
  describeBackend(backend, 'queries over the read models', () => {
    let db: TestReadDb;
    let t: LedgerTestApp;
    beforeEach(async () => {
      db = await backend.create();
      t = await startLedgerApp({ now: '2026-11-01T00:00:00Z', env: { QUERY_WAIT_MS: '300', ...(db.kind === 'postgres' ? { READ_DB: 'postgres', READ_DB_URL: db.url } : { READ_DB_PATH: db.path }) } });
    });
    afterEach(async () => {
      await t.close(true);
      await db.cleanup();
    });

    const grant = async (customerId: string, sku: string, validFrom = '2026-11-01T00:00:00Z') => {
      const r = await t.http('POST', '/v1/entitlements', { customerId, sku, quantity: 3, validFrom });
      expect(r.status).toBe(201);
      return r.body as { entitlementId: string; position: number };
    };

    it('reads its own writes: a list right after a write includes it', async () => {
      for (let i = 0; i < 5; i++) {
        const g = await grant('acme', 'ANL-PRO');
        const list = await t.http('GET', `/v1/customers/acme/entitlements?minPosition=${g.position}`);
        expect(list.status).toBe(200);
        expect(list.body.items.map((e: { entitlementId: string }) => e.entitlementId)).toContain(g.entitlementId);
        expect(list.body.position).toBeGreaterThanOrEqual(g.position);
      }
      const ahead = await t.http('GET', `/v1/customers/acme/entitlements?minPosition=${(await t.head()) + 50}`);
      expect(ahead).toMatchObject({ status: 503, body: { code: 'READ_MODEL.BEHIND', details: { minPosition: (await t.head()) + 50 } } });
    });

    it('pages with cursors and filters by status, product and expiry', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push((await grant('globex', i % 2 ? 'DSG-PRO' : 'ANL-PRO')).entitlementId);
      const s = await t.http('POST', `/v1/entitlements/${ids[0]}/suspend`, { reason: 'unpaid' });
      const all: string[] = [];
      let url = `/v1/customers/globex/entitlements?limit=3&minPosition=${s.body.position}`;
      for (let pages = 0; ; pages++) {
        const page = await t.http('GET', url);
        expect(page.status).toBe(200);
        all.push(...page.body.items.map((e: { entitlementId: string }) => e.entitlementId));
        if (!page.body.nextCursor) {
          expect(pages).toBe(2);
          break;
        }
        url = `/v1/customers/globex/entitlements?limit=3&cursor=${page.body.nextCursor}`;
      }
      expect(all.sort()).toEqual([...ids].sort());
      expect((await t.http('GET', '/v1/customers/globex/entitlements?status=suspended')).body.items.map((e: { entitlementId: string }) => e.entitlementId)).toEqual([ids[0]]);
      const designer = (await t.http('GET', '/v1/entitlements?productId=designer&customerId=globex')).body.items;
      expect(designer).toHaveLength(3);
      // Designer Pro runs a month from 2026-11-01; Analytics Pro a year.
      const expiring = (await t.http('GET', '/v1/entitlements?expiringWithinDays=45')).body.items;
      expect(expiring.map((e: { productId: string }) => e.productId)).toEqual(['designer', 'designer', 'designer']);
      expect((await t.http('GET', '/v1/entitlements?cursor=bogus')).body).toMatchObject({ statusCode: 400, errors: [{ path: 'cursor' }] });
      expect((await t.http('GET', '/v1/entitlements?limit=0')).body.errors[0].path).toBe('limit');
    });

    it('lists seat assignments, orders, pending access requests and a customer summary', async () => {
      const g = await grant('initech', 'ANL-PRO');
      for (const u of ['carol', 'alice', 'bob']) await t.http('POST', `/v1/entitlements/${g.entitlementId}/seat-assignments`, { userId: u });
      const released = await t.http('DELETE', `/v1/entitlements/${g.entitlementId}/seat-assignments/carol`);
      const seats = await t.http('GET', `/v1/entitlements/${g.entitlementId}/seat-assignments?minPosition=${released.body.position}`);
      expect(seats.body.items.map((s: { userId: string }) => s.userId)).toEqual(['alice', 'bob']);

      const order = await t.http('POST', '/v1/orders', { orderId: 'SO-9', customerId: 'initech', lines: [{ lineId: '1', sku: 'VLT-PRO', quantity: 1, action: 'new' }] });
      const got = await t.http('GET', `/v1/orders/SO-9?minPosition=${order.body.position}`);
      expect(got.body).toMatchObject({ orderId: 'SO-9', status: 'fulfilled', results: [{ status: 'fulfilled' }], entitlementIds: [order.body.lines[0].entitlementId] });
      expect((await t.http('GET', '/v1/orders/SO-404')).body.code).toBe('ORDER.NOT_FOUND');

      const r1 = await t.http('POST', '/v1/access-requests', { customerId: 'initech', sku: 'ANL-ENT', reason: 'sso' }, await t.keyFor('customer-user', ['initech'], 'alice'));
      const r2 = await t.http('POST', '/v1/access-requests', { customerId: 'initech', sku: 'VLT-ENT', reason: 'hsm' }, await t.keyFor('customer-user', ['initech'], 'alice'));
      const decided = await t.http('POST', `/v1/access-requests/${r1.body.requestId}/reject`, { reason: 'later' });
      const pending = await t.http('GET', `/v1/access-requests?customerId=initech&minPosition=${decided.body.position}`);
      expect(pending.body.items.map((r: { requestId: string }) => r.requestId)).toEqual([r2.body.requestId]);
      expect((await t.http('GET', '/v1/access-requests?status=rejected')).body.items).toEqual([expect.objectContaining({ requestId: r1.body.requestId, decidedBy: expect.stringMatching(/^key:/), decisionNote: 'later' })]);

      const summary = await t.http('GET', `/v1/customers/initech/summary?minPosition=${decided.body.position}`);
      expect(summary.body).toMatchObject({ customerId: 'initech', entitlements: 2, active: 2, seats: 4, seatsAssigned: 2, products: ['analytics', 'vault'] });
      expect((await t.http('GET', '/v1/customers/nobody/summary')).status).toBe(404);
    });
  });
}
