import { startLedgerApp, type LedgerTestApp } from '../testing/ledger-test-app';

const op: Record<string, string> = {};

describe('POST /v1/entitlements', () => {
  let t: LedgerTestApp;
  beforeEach(async () => (t = await startLedgerApp({ env: { QUERY_WAIT_MS: '100' } })));
  afterEach(() => t.close(true));

  it('grants by hand and reads it back with its revision as ETag', async () => {
    const before = await t.head();
    const res = await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku: 'ANL-PRO', quantity: 3, validFrom: '2026-11-01T00:00:00Z' }, op);
    expect(res.status).toBe(201);
    expect(res.headers['etag']).toBe('"0"');
    expect(res.body).toMatchObject({ revision: 0, events: ['EntitlementGranted'], entitlement: { status: 'active', seats: 3, origin: { kind: 'manual' }, validUntil: '2027-11-01T00:00:00.000Z' } });
    const [event] = await t.eventsAfter(before);
    expect(event!).toMatchObject({ type: 'EntitlementGranted', metadata: { actor: { type: 'operator', id: expect.stringMatching(/^key:[0-9a-f]{16}$/) }, source: 'api' } });
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

  it('validates ids, bodies and headers with paths', async () => {
    expect((await t.http('GET', '/v1/entitlements/has%20space')).body.errors[0].path).toBe('params.id');
    expect((await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku: 'ANL-PRO', quantity: 1.5 })).body.errors[0].path).toBe('quantity');
    expect((await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku: 'ANL-PRO' }, { 'x-actor': 'wizard:merlin' })).body.errors[0].path).toBe('headers.x-actor');
    expect((await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku: 'NOPE' })).body.code).toBe('CATALOG.UNKNOWN_SKU');
    expect((await t.http('GET', '/v1/entitlements/missing')).status).toBe(404);
  });
});
