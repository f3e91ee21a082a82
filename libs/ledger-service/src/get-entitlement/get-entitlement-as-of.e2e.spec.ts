import { grantAsOperator, startLedgerApp, type LedgerTestApp } from '../testing/ledger-test-app';

/**
 * GET /v1/entitlements/:id?asOf=&recordedAsOf= — answered from the stream. Time moves only
 * by the injected clock: every write below is recorded (and effective, unless an order says
 * otherwise) at the instant the clock shows.
 */
describe('GET /v1/entitlements/:id as of a time', () => {
  let t: LedgerTestApp;
  beforeEach(async () => (t = await startLedgerApp({ now: '2026-11-01T00:00:00Z', env: { QUERY_WAIT_MS: '300' } })));
  afterEach(() => t.close(true));

  const asOf = (id: string, query: string, headers?: Record<string, string>) => t.http('GET', `/v1/entitlements/${id}?${query}`, undefined, headers);
  const ok = async (id: string, query: string) => {
    const res = await asOf(id, query);
    expect(res.status).toBe(200);
    return res.body;
  };

  it('an upgrade: before it the old plan, from it the new one; as recorded before it, the old plan at any time', async () => {
    const id = await grantAsOperator(t, 'ANL-PRO', 1);
    t.clock.set('2026-11-10T00:00:00Z');
    expect((await t.http('POST', `/v1/entitlements/${id}/change-plan`, { sku: 'ANL-ENT', quantity: 1, direction: 'upgrade' })).status).toBe(200);
    t.clock.set('2026-11-20T00:00:00Z');

    const before = await asOf(id, 'asOf=2026-11-05T00:00:00Z');
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ planId: 'pro', planSku: 'ANL-PRO', tier: 1, seats: 1, revision: 1 });
    expect(before.body.asOf).toEqual({ asOf: '2026-11-05T00:00:00.000Z', recordedAsOf: '2026-11-20T00:00:00.000Z' });
    expect(before.headers['etag']).toBeUndefined();
    expect(await ok(id, 'asOf=2026-11-10T00:00:00Z')).toMatchObject({ planId: 'enterprise', planSku: 'ANL-ENT', tier: 2, seats: 10 });
    expect(await ok(id, 'asOf=2026-11-15T00:00:00Z&recordedAsOf=2026-11-09T00:00:00Z')).toMatchObject({ planId: 'pro', revision: 0 });

    // Asked about now, the answer is the current view, field for field, plus the question.
    const current = await t.http('GET', `/v1/entitlements/${id}`);
    const { asOf: question, ...asOfNow } = await ok(id, 'recordedAsOf=2026-11-20T00:00:00Z');
    expect(question).toEqual({ asOf: '2026-11-20T00:00:00.000Z', recordedAsOf: '2026-11-20T00:00:00.000Z' });
    expect(asOfNow).toEqual(current.body);
  });

  it('a back-dated upgrade (an order effective before it was recorded) shows in the past only as recorded since', async () => {
    const id = await grantAsOperator(t, 'ANL-PRO', 1);
    t.clock.set('2026-11-20T00:00:00Z');
    const order = await t.http('POST', '/v1/orders', { orderId: 'SO-UP', customerId: 'acme', effectiveAt: '2026-11-10T00:00:00Z', lines: [{ lineId: '1', sku: 'ANL-ENT', quantity: 1, action: 'upgrade', entitlementId: id }] });
    expect(order.body).toMatchObject({ status: 'fulfilled' });

    expect(await ok(id, 'asOf=2026-11-15T00:00:00Z')).toMatchObject({ planId: 'enterprise' });
    expect(await ok(id, 'asOf=2026-11-15T00:00:00Z&recordedAsOf=2026-11-15T00:00:00Z')).toMatchObject({ planId: 'pro' });
    expect(await ok(id, 'asOf=2026-11-05T00:00:00Z')).toMatchObject({ planId: 'pro' });
  });

  it('a back-dated grant: in force in the past as recorded now, unknown as recorded before it was', async () => {
    t.clock.set('2026-11-15T00:00:00Z');
    const order = await t.http('POST', '/v1/orders', { orderId: 'SO-BACK', customerId: 'acme', effectiveAt: '2026-10-01T00:00:00Z', lines: [{ lineId: '1', sku: 'ANL-PRO', quantity: 2, action: 'new' }] });
    const fromOrder = order.body.lines[0].entitlementId as string;
    const byHand = (await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku: 'ANL-PRO', quantity: 2, validFrom: '2026-10-01T00:00:00Z' })).body.entitlementId as string;

    for (const id of [fromOrder, byHand]) {
      expect(await ok(id, 'asOf=2026-10-15T00:00:00Z')).toMatchObject({ status: 'active', validFrom: '2026-10-01T00:00:00.000Z', revision: 0 });
      const unknown = await asOf(id, 'asOf=2026-10-15T00:00:00Z&recordedAsOf=2026-10-20T00:00:00Z');
      expect(unknown.status).toBe(404);
      expect(unknown.body).toMatchObject({ code: 'ENTITLEMENT.NOT_FOUND', details: { asOf: '2026-10-15T00:00:00.000Z', recordedAsOf: '2026-10-20T00:00:00.000Z' } });
      expect((await asOf(id, 'asOf=2026-09-30T00:00:00Z')).body.code).toBe('ENTITLEMENT.NOT_FOUND');
    }
  });

  it('a suspension then a reinstatement: active, suspended, active again; as recorded before the reinstatement, still suspended', async () => {
    const id = await grantAsOperator(t, 'ANL-PRO', 1);
    t.clock.set('2026-11-05T00:00:00Z');
    expect((await t.http('POST', `/v1/entitlements/${id}/suspend`, { reason: 'unpaid invoice' })).status).toBe(200);
    t.clock.set('2026-11-09T00:00:00Z');
    expect((await t.http('POST', `/v1/entitlements/${id}/reinstate`, { reason: 'paid' })).status).toBe(200);
    t.clock.set('2026-11-12T00:00:00Z');

    expect(await ok(id, 'asOf=2026-11-03T00:00:00Z')).toMatchObject({ status: 'active', revision: 2 });
    const suspended = await ok(id, 'asOf=2026-11-07T00:00:00Z');
    expect(suspended).toMatchObject({ status: 'suspended', statusReason: 'unpaid invoice', updatedAt: '2026-11-05T00:00:00.000Z' });
    expect(await ok(id, 'asOf=2026-11-10T00:00:00Z')).toMatchObject({ status: 'active', updatedAt: '2026-11-09T00:00:00.000Z' });
    expect((await ok(id, 'asOf=2026-11-10T00:00:00Z')).statusReason).toBeUndefined();
    expect(await ok(id, 'recordedAsOf=2026-11-07T00:00:00Z')).toMatchObject({ status: 'suspended', revision: 1 });
    expect(await ok(id, 'asOf=2026-11-10T00:00:00Z&recordedAsOf=2026-11-07T00:00:00Z')).toMatchObject({ status: 'suspended' });
  });

  it('a revocation: active before it, revoked from it on; as recorded before it, active', async () => {
    const id = await grantAsOperator(t, 'ANL-PRO', 1);
    t.clock.set('2026-11-05T00:00:00Z');
    expect((await t.http('POST', `/v1/entitlements/${id}/revoke`, { reason: 'contract terminated' })).status).toBe(200);
    t.clock.set('2026-11-06T00:00:00Z');

    expect(await ok(id, 'asOf=2026-11-04T23:59:59.999Z')).toMatchObject({ status: 'active' });
    expect(await ok(id, 'asOf=2026-11-05T00:00:00Z')).toMatchObject({ status: 'revoked', statusReason: 'contract terminated', revision: 1 });
    expect(await ok(id, 'asOf=2030-01-01T00:00:00Z')).toMatchObject({ status: 'revoked' });
    expect(await ok(id, 'asOf=2026-11-05T12:00:00Z&recordedAsOf=2026-11-04T00:00:00Z')).toMatchObject({ status: 'active', revision: 0 });
  });

  it('validity and grace that ended by asOf show as expired, though no expiry was recorded', async () => {
    // Analytics Pro: 12 months from 2026-11-01, then 14 days of grace.
    const id = await grantAsOperator(t, 'ANL-PRO', 1);
    expect(await ok(id, 'asOf=2027-11-14T23:59:59Z')).toMatchObject({ status: 'active', validUntil: '2027-11-01T00:00:00.000Z' });
    expect(await ok(id, 'asOf=2027-11-15T00:00:00Z')).toMatchObject({ status: 'expired', updatedAt: '2027-11-15T00:00:00.000Z' });
    expect((await t.http('GET', `/v1/entitlements/${id}`)).body.status).toBe('active');
  });

  it('refuses a time that is not an ISO-8601 date-time with offset, naming the parameter', async () => {
    const id = await grantAsOperator(t, 'ANL-PRO', 1);
    for (const [query, path] of [
      ['asOf=yesterday', 'asOf'],
      ['asOf=2026-11-01', 'asOf'],
      ['recordedAsOf=2026-11-01T00:00:00', 'recordedAsOf'],
      ['asOf=2026-11-01T00:00:00Z&recordedAsOf=2026-02-30T00:00:00Z', 'recordedAsOf'],
      // An unencoded + arrives as a space.
      ['asOf=2026-11-01T02:00:00+02:00', 'asOf'],
      ['asOf=', 'asOf'],
      ['asof=2026-11-01T00:00:00Z', 'asof'],
    ]) {
      const res = await asOf(id, query!);
      expect({ query, status: res.status, code: res.body.code, paths: res.body.errors?.map((e: { path: string }) => e.path) }).toEqual({ query, status: 400, code: 'VALIDATION_FAILED', paths: [path] });
    }
    expect((await ok(id, 'asOf=2026-11-01T02:00:00%2B02:00')).asOf.asOf).toBe('2026-11-01T00:00:00.000Z');
  });

  it('cannot see another customer\'s entitlement at any time: 404 as for one that never existed', async () => {
    const id = await grantAsOperator(t, 'ANL-PRO', 1);
    const globex = await t.keyFor('customer-user', ['globex']);
    const acme = await t.keyFor('customer-user', ['acme']);
    const theirs = await asOf(id, 'asOf=2026-11-01T00:00:00Z', globex);
    const missing = await asOf('no-such-entitlement', 'asOf=2026-11-01T00:00:00Z', globex);
    expect(theirs.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(theirs.body).toEqual({ ...missing.body, message: missing.body.message.replace('no-such-entitlement', id) });
    expect(await asOf(id, 'asOf=2026-11-01T00:00:00Z', acme)).toMatchObject({ status: 200, body: { entitlementId: id } });
  });

  it('the OpenAPI document describes asOf and recordedAsOf on both entitlement queries, and not on the search', async () => {
    const paths = (await t.http('GET', '/docs/openapi.json')).body.paths;
    const params = (path: string) => Object.fromEntries((paths[path].get.parameters as { name: string; in: string; schema: { format?: string }; description?: string }[]).filter((p) => p.in === 'query').map((p) => [p.name, p]));
    for (const path of ['/v1/entitlements/{id}', '/v1/customers/{customerId}/entitlements']) {
      const q = params(path);
      expect(q['asOf']).toMatchObject({ schema: { format: 'date-time' }, description: expect.stringContaining('Default: recordedAsOf') });
      expect(q['recordedAsOf']).toMatchObject({ schema: { format: 'date-time' }, description: expect.stringContaining('Default: now') });
    }
    expect(params('/v1/entitlements')['asOf']).toBeUndefined();
  });
});
