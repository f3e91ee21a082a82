import { grantAsOperator, startLedgerApp, type LedgerTestApp } from '../testing/ledger-test-app';

describe('POST /v1/entitlements/:id/suspend and /reinstate', () => {
  let t: LedgerTestApp;
  beforeEach(async () => (t = await startLedgerApp({ env: { QUERY_WAIT_MS: '100' } })));
  afterEach(() => t.close(true));

  const grant = (sku?: string, quantity?: number) => grantAsOperator(t, sku, quantity);

  it('suspends with a reason, refuses a second suspension, reinstates', async () => {
    const id = await grant();
    expect((await t.http('POST', `/v1/entitlements/${id}/suspend`, { reason: 'unpaid' })).body.entitlement).toMatchObject({ status: 'suspended', statusReason: 'unpaid' });
    expect((await t.http('POST', `/v1/entitlements/${id}/suspend`, { reason: 'unpaid' })).body.code).toBe('ENTITLEMENT.ALREADY_SUSPENDED');
    expect((await t.http('POST', `/v1/entitlements/${id}/reinstate`, {})).body.entitlement.status).toBe('active');
    expect((await t.http('POST', `/v1/entitlements/${id}/suspend`, {})).body.errors[0].path).toBe('reason');
  });
});
