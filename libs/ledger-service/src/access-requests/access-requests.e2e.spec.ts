import { principalIdOf, startLedgerApp, type LedgerTestApp } from '../testing/ledger-test-app';

let alice: Record<string, string>;
let bob: Record<string, string>;
let carol: Record<string, string>;

describe('access requests (approval workflow)', () => {
  let t: LedgerTestApp;
  beforeEach(async () => {
    t = await startLedgerApp();
    // alice works at acme and asks from the portal; bob and carol are operators.
    alice = { ...(await t.keyFor('customer-user', ['acme'], 'alice')), 'x-source': 'portal' };
    bob = await t.keyFor('operator', null, 'bob');
    carol = await t.keyFor('operator', null, 'carol');
  });
  afterEach(() => t.close(true));

  const requestPlan = async () => {
    const res = await t.http('POST', '/v1/access-requests', { customerId: 'acme', sku: 'ANL-ENT', quantity: 1, reason: 'SSO for the data team' }, alice);
    expect(res.status).toBe(201);
    return res.body.requestId as string;
  };

  it('records a request, lists it as pending, and an approval by someone else grants the plan', async () => {
    const id = await requestPlan();
    const pending = await t.http('GET', '/v1/access-requests?customerId=acme');
    expect(pending.body.items).toEqual([expect.objectContaining({ requestId: id, requestedBy: principalIdOf(alice), sku: 'ANL-ENT', status: 'pending' })]);

    const before = await t.head();
    const approved = await t.http('POST', `/v1/access-requests/${id}/approve`, { comment: 'budget ok' }, bob);
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'approved', entitlementEvents: ['EntitlementGranted'] });
    const events = await t.eventsAfter(before);
    // The approval, its grant, and the record that the grant was carried out (what recovery looks for).
    expect(events.map((e) => e.type)).toEqual(['AccessApproved', 'EntitlementGranted', 'AccessFulfilled']);
    expect(events[2]!.data).toMatchObject({ requestId: id, entitlementId: approved.body.entitlementId, entitlementEvents: ['EntitlementGranted'] });
    expect(approved.body.position).toBe(events[2]!.position);
    expect(events[0]!.data).toMatchObject({ approvedBy: principalIdOf(bob), comment: 'budget ok' });
    expect(events[0]!.metadata).toMatchObject({ actor: { type: 'operator', id: principalIdOf(bob) } });
    const ent = await t.http('GET', `/v1/entitlements/${approved.body.entitlementId}`);
    expect(ent.body).toMatchObject({ customerId: 'acme', planId: 'enterprise', origin: { kind: 'access_request', requestId: id } });
    expect((await t.http('GET', `/v1/access-requests?minPosition=${approved.body.position}`)).body.items).toEqual([]);
    expect((await t.http('GET', `/v1/access-requests/${id}`)).body).toMatchObject({ status: 'approved', approvedBy: principalIdOf(bob), fulfilledAt: expect.any(String), fulfilment: { entitlementEvents: ['EntitlementGranted'] } });
  });

  it('a retried approval by the same approver grants once', async () => {
    const id = await requestPlan();
    const first = await t.http('POST', `/v1/access-requests/${id}/approve`, {}, bob);
    const head = await t.head();
    const again = await t.http('POST', `/v1/access-requests/${id}/approve`, {}, bob);
    expect(again.body).toMatchObject({ entitlementId: first.body.entitlementId, replayed: true });
    expect(await t.head()).toBe(head);
    expect((await t.http('POST', `/v1/access-requests/${id}/approve`, {}, carol)).body.code).toBe('ACCESS_REQUEST.ALREADY_DECIDED');
  });

  it('forbids approving one\'s own request, and records a rejection with its approver', async () => {
    const id = await requestPlan();
    const head = await t.head();
    // alice may ask but not decide; carol, an operator, may decide but not her own request.
    expect(await t.http('POST', `/v1/access-requests/${id}/approve`, {}, alice)).toMatchObject({ status: 403, body: { code: 'AUTH.FORBIDDEN' } });
    const own = await t.http('POST', '/v1/access-requests', { customerId: 'acme', sku: 'VLT-ENT', reason: 'for the vault team' }, carol);
    const afterOwn = await t.head();
    const self = await t.http('POST', `/v1/access-requests/${own.body.requestId}/approve`, {}, carol);
    expect(self).toMatchObject({ status: 403, body: { code: 'ACCESS_REQUEST.SELF_APPROVAL' } });
    expect(await t.head()).toBe(afterOwn);
    expect(afterOwn).toBeGreaterThan(head);
    const rejected = await t.http('POST', `/v1/access-requests/${id}/reject`, { reason: 'no budget' }, bob);
    expect(rejected.body.status).toBe('rejected');
    expect((await t.http('GET', `/v1/access-requests/${id}`)).body).toMatchObject({ status: 'rejected', rejectedBy: principalIdOf(bob), rejectionReason: 'no budget' });
    expect((await t.http('POST', `/v1/access-requests/${id}/approve`, {}, bob)).status).toBe(409);
  });

  it('attaches an add-on on approval, and refuses to approve what cannot be granted', async () => {
    const ent = (await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku: 'ANL-PRO' })).body.entitlementId;
    const req = await t.http('POST', '/v1/access-requests', { customerId: 'acme', sku: 'ANL-ADDON-AI', reason: 'try AI', entitlementId: ent }, alice);
    const ok = await t.http('POST', `/v1/access-requests/${req.body.requestId}/approve`, {}, bob);
    expect(ok.body).toMatchObject({ entitlementId: ent, entitlementEvents: ['AddOnAttached'] });

    await t.http('POST', `/v1/entitlements/${ent}/revoke`, { reason: 'closed' });
    const late = await t.http('POST', '/v1/access-requests', { customerId: 'acme', sku: 'ANL-ADDON-AI', reason: 'again', entitlementId: ent }, alice);
    const head = await t.head();
    const refused = await t.http('POST', `/v1/access-requests/${late.body.requestId}/approve`, {}, bob);
    expect(refused).toMatchObject({ status: 409, body: { code: 'ENTITLEMENT.ALREADY_REVOKED' } });
    expect(await t.head()).toBe(head);
  });

  it('a plan request naming an entitlement upgrades that entitlement on approval (no second entitlement)', async () => {
    const ent = (await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku: 'ANL-PRO', quantity: 2 })).body.entitlementId as string;
    const asked = await t.http('POST', '/v1/access-requests', { customerId: 'acme', sku: 'ANL-ENT', quantity: 1, reason: 'we outgrew Pro', entitlementId: ent }, alice);
    expect(asked.status).toBe(201);
    const before = await t.head();
    const approved = await t.http('POST', `/v1/access-requests/${asked.body.requestId}/approve`, {}, bob);
    expect(approved.body).toMatchObject({ status: 'approved', entitlementId: ent, entitlementEvents: ['PlanChanged'] });
    expect((await t.eventsAfter(before)).map((e) => e.type)).toEqual(['AccessApproved', 'PlanChanged', 'AccessFulfilled']);
    expect((await t.http('GET', `/v1/entitlements/${ent}`)).body).toMatchObject({ planId: 'enterprise' });
    const owned = await t.http('GET', `/v1/customers/acme/entitlements?minPosition=${approved.body.position}`);
    expect(owned.body.items.map((e: { entitlementId: string }) => e.entitlementId)).toEqual([ent]);
  });

  it('refuses, when asked, an entitlement of another product or another customer', async () => {
    const ent = (await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku: 'ANL-PRO' })).body.entitlementId as string;
    const globex = (await t.http('POST', '/v1/entitlements', { customerId: 'globex', sku: 'ANL-PRO' })).body.entitlementId as string;
    const head = await t.head();
    expect(await t.http('POST', '/v1/access-requests', { customerId: 'acme', sku: 'VLT-PRO', reason: 'x', entitlementId: ent }, alice)).toMatchObject({ status: 409, body: { code: 'PLAN.PRODUCT_MISMATCH' } });
    expect(await t.http('POST', '/v1/access-requests', { customerId: 'acme', sku: 'VLT-EXTRA-SECRETS', reason: 'x', entitlementId: ent }, alice)).toMatchObject({ body: { code: expect.stringMatching(/PRODUCT_MISMATCH|UNKNOWN_SKU/) } });
    // An operator naming another customer's entitlement: as if it did not exist.
    expect(await t.http('POST', '/v1/access-requests', { customerId: 'acme', sku: 'ANL-ENT', reason: 'x', entitlementId: globex }, bob)).toMatchObject({ status: 404, body: { code: 'ENTITLEMENT.NOT_FOUND' } });
    expect(await t.head()).toBe(head);
  });

  it('validates requests', async () => {
    expect((await t.http('POST', '/v1/access-requests', { customerId: 'acme', sku: 'NOPE', reason: 'x' }, alice)).body.code).toBe('CATALOG.UNKNOWN_SKU');
    expect((await t.http('POST', '/v1/access-requests', { customerId: 'acme', sku: 'ANL-PRO' }, alice)).body.errors[0].path).toBe('reason');
    expect((await t.http('POST', '/v1/access-requests/nope/approve', {}, bob)).body.code).toBe('ACCESS_REQUEST.NOT_FOUND');
  });
});
