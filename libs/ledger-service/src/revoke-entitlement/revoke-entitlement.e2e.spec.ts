import { startLedgerApp, type LedgerTestApp } from '../testing/ledger-test-app';

const op = { 'x-actor': 'operator:alice' };

describe('POST /v1/entitlements/:id/renew and /revoke', () => {
  let t: LedgerTestApp;
  beforeEach(async () => (t = await startLedgerApp({ env: { QUERY_WAIT_MS: '100' } })));
  afterEach(() => t.close(true));

  const grant = async (sku = 'ANL-PRO', quantity = 3, headers: Record<string, string> = op) => {
    const res = await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku, quantity }, headers);
    expect(res.status).toBe(201);
    return res.body.entitlementId as string;
  };

  it('renews for more terms, then revokes for good: nothing changes a revoked entitlement', async () => {
    const id = await grant();
    const renewed = await t.http('POST', `/v1/entitlements/${id}/renew`, { periods: 2 });
    expect(renewed.body.events).toEqual(['EntitlementRenewed']);
    expect((await t.http('POST', `/v1/entitlements/${id}/revoke`, { reason: 'fraud' })).body.entitlement.status).toBe('revoked');
    for (const [path, body] of [['renew', {}], ['reinstate', {}], ['seats', { seats: 9 }]] as const) {
      expect((await t.http('POST', `/v1/entitlements/${id}/${path}`, body)).body.code).toBe('ENTITLEMENT.ALREADY_REVOKED');
    }
  });
});
