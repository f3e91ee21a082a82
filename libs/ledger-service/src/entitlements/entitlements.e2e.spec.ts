import { startLedgerApp, type LedgerTestApp } from '../testing/ledger-test-app';

const op = { 'x-actor': 'operator:alice' };

describe('entitlement API', () => {
  let t: LedgerTestApp;
  beforeEach(async () => (t = await startLedgerApp({ env: { QUERY_WAIT_MS: '100' } })));
  afterEach(() => t.close(true));

  const grant = async (sku = 'ANL-PRO', quantity = 3, headers: Record<string, string> = op) => {
    const res = await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku, quantity }, headers);
    expect(res.status).toBe(201);
    return res.body.entitlementId as string;
  };

  it('grants by hand and reads it back with its revision as ETag', async () => {
    const before = await t.head();
    const res = await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku: 'ANL-PRO', quantity: 3, validFrom: '2026-11-01T00:00:00Z' }, op);
    expect(res.status).toBe(201);
    expect(res.headers['etag']).toBe('"0"');
    expect(res.body).toMatchObject({ revision: 0, events: ['EntitlementGranted'], entitlement: { status: 'active', seats: 3, origin: { kind: 'manual' }, validUntil: '2027-11-01T00:00:00.000Z' } });
    const [event] = await t.eventsAfter(before);
    expect(event!).toMatchObject({ type: 'EntitlementGranted', metadata: { actor: { type: 'operator', id: 'alice' }, source: 'api' } });
    const get = await t.http('GET', `/v1/entitlements/${res.body.entitlementId}`);
    expect(get.status).toBe(200);
    expect(get.headers['etag']).toBe('"0"');
    expect(get.body).toEqual(res.body.entitlement);
  });

  it('returns the original grant for a retried Idempotency-Key and refuses the key with another body', async () => {
    const h = { ...op, 'idempotency-key': 'grant-acme-1' };
    const first = await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku: 'ANL-PRO' }, h);
    const head = await t.head();
    const retry = await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku: 'ANL-PRO' }, h);
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ entitlementId: first.body.entitlementId, replayed: true, position: first.body.position });
    expect(await t.head()).toBe(head);
    const reused = await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku: 'ANL-ENT' }, h);
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('IDEMPOTENCY.KEY_REUSED');
    expect(await t.head()).toBe(head);
  });

  it('replays an idempotent seat assignment instead of failing it as already assigned', async () => {
    const id = await grant();
    const h = { ...op, 'idempotency-key': 'assign-bob' };
    const first = await t.http('POST', `/v1/entitlements/${id}/seat-assignments`, { userId: 'bob' }, h);
    const retry = await t.http('POST', `/v1/entitlements/${id}/seat-assignments`, { userId: 'bob' }, h);
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ replayed: true, revision: first.body.revision, position: first.body.position });
    const noKey = await t.http('POST', `/v1/entitlements/${id}/seat-assignments`, { userId: 'bob' }, op);
    expect(noKey.body.code).toBe('SEAT.ALREADY_ASSIGNED');
  });

  it('honours If-Match: the current revision writes, a stale one is 412 and writes nothing', async () => {
    const id = await grant();
    const ok = await t.http('POST', `/v1/entitlements/${id}/seat-assignments`, { userId: 'bob' }, { 'if-match': '"0"' });
    expect(ok.status).toBe(200);
    expect(ok.headers['etag']).toBe('"1"');
    const head = await t.head();
    const stale = await t.http('POST', `/v1/entitlements/${id}/seat-assignments`, { userId: 'carol' }, { 'if-match': '"0"' });
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ code: 'CONCURRENCY.STALE_REVISION', details: { expected: 0, actual: 1 } });
    expect(await t.head()).toBe(head);
    expect((await t.http('POST', `/v1/entitlements/${id}/suspend`, { reason: 'x' }, { 'if-match': 'yesterday' })).body.errors[0].path).toBe('headers.if-match');
  });

  it('never loses a concurrent write and never assigns more seats than exist', async () => {
    const id = await grant('ANL-PRO', 5);
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => t.http('POST', `/v1/entitlements/${id}/seat-assignments`, { userId: `user-${i}` })));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.code === 'SEAT.NONE_AVAILABLE')).toBe(true);
    const view = (await t.http('GET', `/v1/entitlements/${id}`)).body;
    expect(view.assignedUsers).toHaveLength(5);
    expect(view.revision).toBe(5);
  });

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

  it('suspends, reinstates, renews and revokes for good', async () => {
    const id = await grant();
    expect((await t.http('POST', `/v1/entitlements/${id}/suspend`, { reason: 'unpaid' })).body.entitlement).toMatchObject({ status: 'suspended', statusReason: 'unpaid' });
    expect((await t.http('POST', `/v1/entitlements/${id}/suspend`, { reason: 'unpaid' })).body.code).toBe('ENTITLEMENT.ALREADY_SUSPENDED');
    expect((await t.http('POST', `/v1/entitlements/${id}/reinstate`, {})).body.entitlement.status).toBe('active');
    const renewed = await t.http('POST', `/v1/entitlements/${id}/renew`, { periods: 2 });
    expect(renewed.body.events).toEqual(['EntitlementRenewed']);
    expect((await t.http('POST', `/v1/entitlements/${id}/suspend`, {})).body.errors[0].path).toBe('reason');
    expect((await t.http('POST', `/v1/entitlements/${id}/revoke`, { reason: 'fraud' })).body.entitlement.status).toBe('revoked');
    for (const [path, body] of [['renew', {}], ['reinstate', {}], ['seats', { seats: 9 }]] as const) {
      expect((await t.http('POST', `/v1/entitlements/${id}/${path}`, body)).body.code).toBe('ENTITLEMENT.ALREADY_REVOKED');
    }
  });

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

  it('validates ids, bodies and headers with paths', async () => {
    expect((await t.http('GET', '/v1/entitlements/has%20space')).body.errors[0].path).toBe('params.id');
    expect((await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku: 'ANL-PRO', quantity: 1.5 })).body.errors[0].path).toBe('quantity');
    expect((await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku: 'ANL-PRO' }, { 'x-actor': 'wizard:merlin' })).body.errors[0].path).toBe('headers.x-actor');
    expect((await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku: 'NOPE' })).body.code).toBe('CATALOG.UNKNOWN_SKU');
    expect((await t.http('GET', '/v1/entitlements/missing')).status).toBe(404);
  });
});
