import { grantAsOperator, startLedgerApp, type LedgerTestApp } from '../testing/ledger-test-app';

describe('devices and seats', () => {
  let t: LedgerTestApp;
  beforeEach(async () => (t = await startLedgerApp({ env: { QUERY_WAIT_MS: '100' } })));
  afterEach(() => t.close(true));

  const grant = (sku?: string, quantity?: number) => grantAsOperator(t, sku, quantity);

  it('activates devices up to the limit and releases a seat with its devices', async () => {
    const id = await grant('DSG-PRO', 1); // 1 seat, 2 devices per seat
    await t.http('POST', `/v1/entitlements/${id}/seat-assignments`, { userId: 'bob' });
    expect((await t.http('POST', `/v1/entitlements/${id}/devices`, { deviceId: 'mac-1', userId: 'bob' })).status).toBe(200);
    expect((await t.http('POST', `/v1/entitlements/${id}/devices`, { deviceId: 'pc-2', userId: 'bob' })).status).toBe(200);
    const third = await t.http('POST', `/v1/entitlements/${id}/devices`, { deviceId: 'pc-3' });
    expect(third.body).toMatchObject({ code: 'DEVICE.LIMIT_REACHED', details: { limit: 2, active: 2 } });
    const release = await t.http('DELETE', `/v1/entitlements/${id}/seat-assignments/bob`);
    expect(release.body.events).toEqual(['SeatReleased', 'DeviceDeactivated', 'DeviceDeactivated']);
    expect(release.body.entitlement.devices).toEqual([]);
    expect((await t.http('DELETE', `/v1/entitlements/${id}/devices/mac-1`)).body.code).toBe('DEVICE.NOT_ACTIVE');
  });
});
