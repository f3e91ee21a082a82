import { grantAsOperator, startLedgerApp, type LedgerTestApp } from '../testing/ledger-test-app';

describe('POST /v1/entitlements/:id/renew and /revoke', () => {
  let t: LedgerTestApp;
  beforeEach(async () => (t = await startLedgerApp({ env: { QUERY_WAIT_MS: '100' } })));
  afterEach(() => t.close(true));

  const grant = (sku?: string, quantity?: number) => grantAsOperator(t, sku, quantity);

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
