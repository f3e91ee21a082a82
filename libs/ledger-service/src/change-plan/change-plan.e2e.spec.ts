import { grantAsOperator, startLedgerApp, type LedgerTestApp } from '../testing/ledger-test-app';

describe('changing what an entitlement includes: plan, seats, add-ons', () => {
  let t: LedgerTestApp;
  beforeEach(async () => (t = await startLedgerApp({ env: { QUERY_WAIT_MS: '100' } })));
  afterEach(() => t.close(true));

  const grant = (sku?: string, quantity?: number) => grantAsOperator(t, sku, quantity);

  it('changes plans with the delta, seats with a release count, and add-ons', async () => {
    const id = await grant('ANL-PRO', 3);
    for (const u of ['a', 'b', 'c']) await t.http('POST', `/v1/entitlements/${id}/seat-assignments`, { userId: u });
    const up = await t.http('POST', `/v1/entitlements/${id}/change-plan`, { sku: 'ANL-ENT', direction: 'upgrade' });
    expect(up.status).toBe(200);
    const [changed] = await t.eventsAfter(up.body.position - 1);
    expect(changed!.data).toMatchObject({ direction: 'upgrade', delta: { added: ['audit_log', 'sso'], limitsChanged: { projects: { from: 25, to: 1000 } } } });
    const wrongWay = await t.http('POST', `/v1/entitlements/${id}/change-plan`, { sku: 'ANL-FREE', direction: 'upgrade' });
    expect(wrongWay).toMatchObject({ status: 409, body: { code: 'PLAN.NOT_AN_UPGRADE' } });
    const cut = await t.http('POST', `/v1/entitlements/${id}/seats`, { seats: 1 });
    expect(cut).toMatchObject({ status: 409, body: { code: 'SEATS.BELOW_ASSIGNED', details: { assigned: 3, requested: 1, release: 2 } } });
    expect((await t.http('POST', `/v1/entitlements/${id}/seats`, { seats: 8 })).body.entitlement.seats).toBe(8);
    const addOn = await t.http('POST', `/v1/entitlements/${id}/add-ons`, { sku: 'ANL-ADDON-AI' });
    expect(addOn.body.entitlement.features.ai_insights).toEqual({});
    const wrongProduct = await t.http('POST', `/v1/entitlements/${id}/add-ons`, { sku: 'DSG-PRO' });
    expect(wrongProduct).toMatchObject({ status: 422, body: { code: 'CATALOG.NOT_AN_ADD_ON' } });
    const detached = await t.http('DELETE', `/v1/entitlements/${id}/add-ons/ANL-ADDON-AI?reason=trial%20over`);
    expect(detached.body.entitlement.addOns).toEqual([]);
    expect((await t.http('DELETE', `/v1/entitlements/${id}/add-ons/ANL-ADDON-AI`)).body.code).toBe('ADD_ON.NOT_ATTACHED');
  });
});
