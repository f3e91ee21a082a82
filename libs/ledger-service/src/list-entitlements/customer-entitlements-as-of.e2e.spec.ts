import { startLedgerApp, type LedgerTestApp } from '../testing/ledger-test-app';

/**
 * GET /v1/customers/:id/entitlements?asOf=&recordedAsOf= — the customer's entitlements from
 * the read model, each one's state from its stream. Time moves only by the injected clock.
 */
describe('GET /v1/customers/:id/entitlements as of a time', () => {
  let t: LedgerTestApp;
  let position = 0;
  beforeEach(async () => {
    t = await startLedgerApp({ now: '2026-11-01T00:00:00Z', env: { QUERY_WAIT_MS: '300' } });
    position = 0;
  });
  afterEach(() => t.close(true));

  const write = async (method: 'POST', url: string, body: unknown) => {
    const res = await t.http(method, url, body);
    expect(res.status).toBeLessThan(300);
    position = Math.max(position, res.body.position as number);
    return res.body;
  };
  const grant = async (sku: string, extra: Record<string, unknown> = {}) => (await write('POST', '/v1/entitlements', { customerId: 'acme', sku, quantity: 1, ...extra })).entitlementId as string;
  const list = async (query: string, headers?: Record<string, string>) => {
    const res = await t.http('GET', `/v1/customers/acme/entitlements?minPosition=${position}&${query}`, undefined, headers);
    expect(res.status).toBe(200);
    return res.body as { items: { entitlementId: string; status: string }[]; nextCursor: string | null; asOf?: unknown };
  };
  const ids = (page: { items: { entitlementId: string }[] }) => page.items.map((e) => e.entitlementId);

  /**
   * analytics granted 1 Nov; vault granted 10 Nov; designer granted on 15 Nov back-dated to
   * 1 Oct (Designer Pro: one month, 7 days' grace, so it lapsed on 8 Nov); analytics
   * suspended on 15 Nov.
   */
  async function history() {
    const analytics = await grant('ANL-PRO');
    t.clock.set('2026-11-10T00:00:00Z');
    const vault = await grant('VLT-PRO');
    t.clock.set('2026-11-15T00:00:00Z');
    const designer = await grant('DSG-PRO', { validFrom: '2026-10-01T00:00:00Z' });
    await write('POST', `/v1/entitlements/${analytics}/suspend`, { reason: 'unpaid' });
    t.clock.set('2026-11-20T00:00:00Z');
    return { analytics, vault, designer };
  }

  it('lists what was in force at asOf as recorded by recordedAsOf: a back-dated grant only as recorded since, a later one not at all', async () => {
    const { analytics, vault, designer } = await history();

    const early = await list('asOf=2026-11-05T00:00:00Z');
    expect(ids(early)).toEqual([analytics, designer]);
    expect(early.asOf).toEqual({ asOf: '2026-11-05T00:00:00.000Z', recordedAsOf: '2026-11-20T00:00:00.000Z' });
    expect(early.items.map((e) => e.status)).toEqual(['active', 'active']);
    expect(ids(await list('asOf=2026-11-05T00:00:00Z&recordedAsOf=2026-11-12T00:00:00Z'))).toEqual([analytics]);
    expect(ids(await list('recordedAsOf=2026-11-12T00:00:00Z'))).toEqual([analytics, vault]);
    expect((await list('recordedAsOf=2026-10-31T00:00:00Z')).items).toEqual([]);

    // Now: all three; designer's validity and grace ran out on 8 Nov, which the current list
    // (no expiry sweep has run) does not show yet.
    const now = await list('asOf=2026-11-20T00:00:00Z');
    expect(now.items.map((e) => [e.entitlementId, e.status])).toEqual([[analytics, 'suspended'], [vault, 'active'], [designer, 'expired']]);
    const current = await list('');
    expect(current.asOf).toBeUndefined();
    expect(current.items.map((e) => [e.entitlementId, e.status])).toEqual([[analytics, 'suspended'], [vault, 'active'], [designer, 'active']]);
  });

  it('filters status as of then, and a page examines limit entitlements, so it may come back short with a cursor', async () => {
    const { analytics, vault, designer } = await history();
    expect(ids(await list('asOf=2026-11-12T00:00:00Z&status=suspended'))).toEqual([]);
    expect(ids(await list('asOf=2026-11-16T00:00:00Z&status=suspended'))).toEqual([analytics]);
    expect(ids(await list('asOf=2026-11-12T00:00:00Z&status=active'))).toEqual([analytics, vault]);
    expect(ids(await list('asOf=2026-11-12T00:00:00Z&productId=vault'))).toEqual([vault]);

    const pages: string[][] = [];
    let query = 'asOf=2026-11-05T00:00:00Z&limit=1';
    for (;;) {
      const page = await list(query);
      pages.push(ids(page));
      if (page.nextCursor === null) break;
      query = `asOf=2026-11-05T00:00:00Z&limit=1&cursor=${page.nextCursor}`;
    }
    // vault was granted after 5 Nov: its page is empty, and the list goes on.
    expect(pages).toEqual([[analytics], [], [designer]]);
  });

  it('refuses bad times and expiringWithinDays with as-of, naming the parameter', async () => {
    for (const [query, path] of [
      ['asOf=last-week', 'asOf'],
      ['recordedAsOf=2026-11-01', 'recordedAsOf'],
      ['asOf=2026-11-01T00:00:00Z&expiringWithinDays=30', 'expiringWithinDays'],
      ['recordedAsOf=2026-11-01T00:00:00Z&expiringWithinDays=30', 'expiringWithinDays'],
    ]) {
      const res = await t.http('GET', `/v1/customers/acme/entitlements?${query}`);
      expect({ query, status: res.status, code: res.body.code, paths: res.body.errors?.map((e: { path: string }) => e.path) }).toEqual({ query, status: 400, code: 'VALIDATION_FAILED', paths: [path] });
    }
    // The cross-customer search has no as-of.
    expect((await t.http('GET', '/v1/entitlements?asOf=2026-11-01T00:00:00Z')).body.errors[0].path).toBe('asOf');
  });

  it('cannot list another customer\'s entitlements as of any time: 404', async () => {
    const { analytics } = await history();
    const globex = await t.keyFor('customer-user', ['globex']);
    const theirs = await t.http('GET', '/v1/customers/acme/entitlements?asOf=2026-11-05T00:00:00Z', undefined, globex);
    expect(theirs).toMatchObject({ status: 404, body: { code: 'CUSTOMER.NOT_FOUND' } });
    expect(ids(await list('asOf=2026-11-12T00:00:00Z&recordedAsOf=2026-11-12T00:00:00Z', await t.keyFor('customer-user', ['acme'])))).toContain(analytics);
  });
});
