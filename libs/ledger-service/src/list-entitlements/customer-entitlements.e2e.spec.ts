import { grantAsOperator, startLedgerApp, type LedgerTestApp } from '../testing/ledger-test-app';

describe('GET /v1/customers/:id/entitlements', () => {
  let t: LedgerTestApp;
  beforeEach(async () => (t = await startLedgerApp({ env: { QUERY_WAIT_MS: '100' } })));
  afterEach(() => t.close(true));

  const grant = (sku?: string, quantity?: number) => grantAsOperator(t, sku, quantity);

  it('lists what a customer owns, waiting for minPosition, else 503 with the position', async () => {
    const a = await grant('ANL-PRO');
    const b = await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku: 'VLT-FREE' });
    await t.http('POST', `/v1/entitlements/${a}/suspend`, { reason: 'x' });
    const all = await t.http('GET', `/v1/customers/acme/entitlements?minPosition=${b.body.position}`);
    expect(all.status).toBe(200);
    expect(all.body.items.map((e: { entitlementId: string }) => e.entitlementId).sort()).toEqual([a, b.body.entitlementId].sort());
    const active = await t.http('GET', '/v1/customers/acme/entitlements?status=active');
    expect(active.body.items.map((e: { productId: string }) => e.productId)).toEqual(['vault']);
    expect((await t.http('GET', '/v1/customers/nobody/entitlements')).body.items).toEqual([]);
    const ahead = await t.http('GET', `/v1/customers/acme/entitlements?minPosition=${(await t.head()) + 100}`);
    expect(ahead.status).toBe(503);
    expect(ahead.body).toMatchObject({ code: 'READ_MODEL.BEHIND', details: { position: await t.head() } });
    expect((await t.http('GET', '/v1/customers/acme/entitlements?status=gone')).body.errors[0].path).toBe('status');
  });
});
