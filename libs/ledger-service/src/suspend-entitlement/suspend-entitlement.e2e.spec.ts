import { startLedgerApp, type LedgerTestApp } from '../testing/ledger-test-app';

const op = { 'x-actor': 'operator:alice' };

describe('POST /v1/entitlements/:id/suspend and /reinstate', () => {
  let t: LedgerTestApp;
  beforeEach(async () => (t = await startLedgerApp({ env: { QUERY_WAIT_MS: '100' } })));
  afterEach(() => t.close(true));

  const grant = async (sku = 'ANL-PRO', quantity = 3, headers: Record<string, string> = op) => {
    const res = await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku, quantity }, headers);
    expect(res.status).toBe(201);
    return res.body.entitlementId as string;
  };

  it('suspends with a reason, refuses a second suspension, reinstates', async () => {
    const id = await grant();
    expect((await t.http('POST', `/v1/entitlements/${id}/suspend`, { reason: 'unpaid' })).body.entitlement).toMatchObject({ status: 'suspended', statusReason: 'unpaid' });
    expect((await t.http('POST', `/v1/entitlements/${id}/suspend`, { reason: 'unpaid' })).body.code).toBe('ENTITLEMENT.ALREADY_SUSPENDED');
    expect((await t.http('POST', `/v1/entitlements/${id}/reinstate`, {})).body.entitlement.status).toBe('active');
    expect((await t.http('POST', `/v1/entitlements/${id}/suspend`, {})).body.errors[0].path).toBe('reason');
  });
});
