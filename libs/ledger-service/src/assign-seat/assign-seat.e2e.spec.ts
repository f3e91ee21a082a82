import { grantAsOperator, OPERATOR as op, startLedgerApp, type LedgerTestApp } from '../testing/ledger-test-app';

describe('POST /v1/entitlements/:id/seat-assignments', () => {
  let t: LedgerTestApp;
  beforeEach(async () => (t = await startLedgerApp({ env: { QUERY_WAIT_MS: '100' } })));
  afterEach(() => t.close(true));

  const grant = (sku?: string, quantity?: number) => grantAsOperator(t, sku, quantity);

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
});
