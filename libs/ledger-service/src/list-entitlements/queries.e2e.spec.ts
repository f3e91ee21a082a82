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

    it('searches customers by id prefix, in id order, with their entitlements by status, within what the credential sees', async () => {
      for (const customerId of ['acme', 'acme.eu', 'Acme-GmbH', 'acmf', 'globex']) await grant(customerId, 'ANL-PRO');
      await grant('acme', 'DSG-PRO');
      const suspended = await t.http('POST', `/v1/entitlements/${(await grant('acme', 'VLT-PRO')).entitlementId}/suspend`, { reason: 'unpaid' });
      const ids = (page: { body: { items: { customerId: string }[] } }) => page.body.items.map((c) => c.customerId);

      const acme = await t.http('GET', `/v1/customers?search=acme&minPosition=${suspended.body.position}`);
      expect(acme.status).toBe(200);
      expect(ids(acme)).toEqual(['acme', 'acme.eu']);
      expect(acme.body.position).toBeGreaterThanOrEqual(suspended.body.position);
      expect(acme.body.items[0]).toEqual({ customerId: 'acme', entitlements: 3, active: 2, suspended: 1, expired: 0, revoked: 0, seats: 9, seatsAssigned: 0, products: ['analytics', 'designer', 'vault'], lastPosition: suspended.body.position });
      expect(ids(await t.http('GET', '/v1/customers?search=Acme'))).toEqual(['Acme-GmbH']);
      // Every customer, bytewise (upper case first), in pages of two.
      const all: string[] = [];
      let url = '/v1/customers?limit=2';
      for (let pages = 1; ; pages++) {
        const page = await t.http('GET', url);
        all.push(...ids(page));
        if (!page.body.nextCursor) {
          expect(pages).toBe(3);
          break;
        }
        url = `/v1/customers?limit=2&cursor=${encodeURIComponent(page.body.nextCursor)}`;
      }
      expect(all).toEqual(['Acme-GmbH', 'acme', 'acme.eu', 'acmf', 'globex']);
      expect(ids(await t.http('GET', '/v1/customers?search='))).toEqual(all);

      // A credential limited to customers finds its own only.
      const service = await t.keyFor('service', ['acme', 'globex']);
      expect(ids(await t.http('GET', '/v1/customers', undefined, service))).toEqual(['acme', 'globex']);
      expect(ids(await t.http('GET', '/v1/customers?search=acme.', undefined, service))).toEqual([]);
      const user = await t.keyFor('customer-user', ['acme.eu']);
      expect(ids(await t.http('GET', '/v1/customers?search=acm', undefined, user))).toEqual(['acme.eu']);

      // Bad input: 400 naming the parameter.
      for (const [query, path] of [['search=a%20b', 'search'], [`search=${'a'.repeat(129)}`, 'search'], ['search=-acme', 'search'], ['search=a&search=b', 'search'], ['limit=0', 'limit'], ['cursor=bogus', 'cursor'], ['minPosition=-1', 'minPosition']]) {
        const res = await t.http('GET', `/v1/customers?${query}`);
        expect({ query, status: res.status, code: res.body.code, path: res.body.errors?.[0]?.path }).toEqual({ query, status: 400, code: 'VALIDATION_FAILED', path });
      }
      expect((await t.http('GET', `/v1/customers?search=${'a'.repeat(128)}`)).body).toMatchObject({ items: [], nextCursor: null });
    });
  });
}
