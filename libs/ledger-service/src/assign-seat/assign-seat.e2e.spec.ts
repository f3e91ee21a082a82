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

  it('an answer lists the first 1,000 seat holders and counts them all; the seat-assignments pages list every one', async () => {
    const id = await grant('ANL-PRO', 1002);
    const user = (i: number) => `user-${String(i).padStart(4, '0')}`;
    let last = await t.http('POST', `/v1/entitlements/${id}/seat-assignments`, { userId: user(0) });
    for (let i = 1; i < 1002; i++) {
      expect(last.status).toBe(200);
      last = await t.http('POST', `/v1/entitlements/${id}/seat-assignments`, { userId: user(i) });
    }
    expect(last.status).toBe(200);
    const shown = (e: { assignedUsers: string[]; assignedUserCount: number }) => ({ count: e.assignedUserCount, listed: e.assignedUsers.length, first: e.assignedUsers[0], last: e.assignedUsers.at(-1) });
    expect(shown(last.body.entitlement)).toEqual({ count: 1002, listed: 1000, first: user(0), last: user(999) });
    expect(shown((await t.http('GET', `/v1/entitlements/${id}`)).body)).toEqual({ count: 1002, listed: 1000, first: user(0), last: user(999) });

    const released = await t.http('DELETE', `/v1/entitlements/${id}/seat-assignments/${user(0)}`);
    expect(released.status).toBe(200);
    expect(shown(released.body.entitlement)).toEqual({ count: 1001, listed: 1000, first: user(1), last: user(1000) });

    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { items: { userId: string }[]; nextCursor: string | null } } = await t.http('GET', `/v1/entitlements/${id}/seat-assignments?limit=500&minPosition=${released.body.position}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.status).toBe(200);
      all.push(...page.body.items.map((s) => s.userId));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(all.sort()).toEqual(Array.from({ length: 1001 }, (_, i) => user(i + 1)));
  });
});
