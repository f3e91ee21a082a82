import { startEmbeddedApp, type EmbeddedApp, type Reply } from './testing/embedded-app';

/**
 * Two tenants on one installation. Tenant A's customer-admin key tries every
 * route against tenant B (globex): reading, writing, checking, minting
 * tokens, asking for access. Each answer is a 404 (B's resources do not exist
 * for A) or a 403 (the role has no such permission), never B's data; and
 * afterwards nothing was written and B reads exactly as before.
 */
describe('tenant isolation: a customer-admin of acme against globex', () => {
  let t: EmbeddedApp;
  let a: Record<string, string>;
  let b: { entitlementId: string; addOnEntitlementId: string; requestId: string; token: string; orderId: string };

  beforeAll(async () => {
    t = await startEmbeddedApp();
    const grant = async (customerId: string, sku: string, quantity = 3) => {
      const res = await t.http('POST', '/v1/entitlements', { customerId, sku, quantity });
      expect(res.status).toBe(201);
      return res.body.entitlementId as string;
    };
    await grant('acme', 'ANL-PRO');
    const entitlementId = await grant('globex', 'DSG-PRO');
    const addOnEntitlementId = await grant('globex', 'ANL-PRO');
    expect((await t.http('POST', `/v1/entitlements/${entitlementId}/seat-assignments`, { userId: 'gina' })).status).toBeLessThan(300);
    expect((await t.http('POST', `/v1/entitlements/${entitlementId}/devices`, { deviceId: 'gina-laptop', userId: 'gina' })).status).toBeLessThan(300);
    const globexUser = await t.keyFor('customer-user', ['globex'], 'gina');
    const requested = await t.http('POST', '/v1/access-requests', { customerId: 'globex', sku: 'ANL-ENT', reason: 'SSO' }, globexUser);
    expect(requested.status).toBe(201);
    const token = await t.http('POST', '/v1/tokens', { customerId: 'globex', userId: 'gina' }, globexUser);
    expect(token.status).toBe(201);
    const order = await t.http('POST', '/v1/orders', { orderId: 'SO-GLOBEX', customerId: 'globex', lines: [{ lineId: '1', sku: 'VLT-PRO', quantity: 1, action: 'new' }] });
    expect(order.status).toBe(201);
    b = { entitlementId, addOnEntitlementId, requestId: requested.body.requestId, token: token.body.token, orderId: 'SO-GLOBEX' };
    a = await t.keyFor('customer-admin', ['acme'], 'acme admin');
    await t.viewAtHead();
  });
  afterAll(() => t.close());

  /** Everything about globex an admin can read, to compare before and after. */
  const globexAsAdmin = async () => ({
    entitlements: (await t.http('GET', '/v1/customers/globex/entitlements')).body.items,
    summary: (await t.http('GET', '/v1/customers/globex/summary')).body,
    seats: (await t.http('GET', `/v1/entitlements/${b.entitlementId}/seat-assignments`)).body.items,
    request: (await t.http('GET', `/v1/access-requests/${b.requestId}`)).body,
    view: (await t.http('GET', '/v1/view/customers/globex/entitlements')).body.items,
  });

  it('cannot read, write, check, mint tokens or request access for globex through any route, and globex is unchanged', async () => {
    const before = await globexAsAdmin();
    const head = await t.store.headPosition();
    const e = b.entitlementId;
    const attempts: [string, string, unknown?][] = [
      // read
      ['GET', `/v1/entitlements/${e}`],
      ['GET', '/v1/customers/globex/entitlements'],
      ['GET', '/v1/entitlements?customerId=globex'],
      ['GET', `/v1/entitlements/${e}/seat-assignments`],
      ['GET', '/v1/customers/globex/summary'],
      ['GET', `/v1/access-requests/${b.requestId}`],
      ['GET', '/v1/access-requests?customerId=globex'],
      ['GET', `/v1/orders/${b.orderId}`],
      ['GET', '/v1/view/customers/globex/entitlements'],
      ['GET', '/v1/view/users/gina/entitlements'],
      ['GET', '/v1/view/devices/gina-laptop/entitlements'],
      ['GET', `/v1/view/entitlements/${e}`],
      // write: what a customer-admin may do at home, and what it may not do anywhere
      ['POST', `/v1/entitlements/${e}/seat-assignments`, { userId: 'mallory' }],
      ['DELETE', `/v1/entitlements/${e}/seat-assignments/gina`],
      ['POST', `/v1/entitlements/${e}/devices`, { deviceId: 'mallory-pc' }],
      ['DELETE', `/v1/entitlements/${e}/devices/gina-laptop`],
      ['POST', `/v1/entitlements/${e}/suspend`, { reason: 'mallory' }],
      ['POST', `/v1/entitlements/${e}/revoke`, { reason: 'mallory' }],
      ['POST', `/v1/entitlements/${e}/change-plan`, { sku: 'DSG-ENT' }],
      ['POST', `/v1/entitlements/${e}/seats`, { seats: 1 }],
      ['POST', '/v1/entitlements', { customerId: 'globex', sku: 'ANL-ENT' }],
      ['POST', '/v1/orders', { orderId: 'SO-MALLORY', customerId: 'globex', lines: [{ lineId: '1', sku: 'ANL-ENT', quantity: 1, action: 'new' }] }],
      ['POST', `/v1/access-requests/${b.requestId}/approve`, {}],
      ['POST', `/v1/access-requests/${b.requestId}/reject`, { reason: 'mallory' }],
      // check
      ['POST', '/v1/check', { customerId: 'globex', feature: 'editor' }],
      ['POST', '/v1/check/batch', { checks: [{ customerId: 'acme', feature: 'dashboards' }, { customerId: 'globex', feature: 'editor' }] }],
      // mint tokens
      ['POST', '/v1/tokens', { customerId: 'globex' }],
      ['POST', '/v1/tokens/refresh', { token: b.token }],
      // request access
      ['POST', '/v1/access-requests', { customerId: 'globex', sku: 'ANL-ENT', reason: 'mallory' }],
      ['POST', '/v1/access-requests', { customerId: 'acme', sku: 'ANL-ADDON-AI', reason: 'on their entitlement', entitlementId: b.addOnEntitlementId }],
      // usage: the billing export (its role may export at home), corrections (it may not correct anywhere)
      ['GET', '/v1/usage/export?period=2026-12&customerId=globex'],
      ['POST', '/v1/usage/corrections', { correctionId: 'mallory', customerId: 'globex', entitlementId: e, feature: 'render_minutes', time: new Date().toISOString(), quantity: -1, reason: 'mallory' }],
      // keys
      ['POST', '/v1/api-keys', { name: 'mallory', role: 'customer-admin', customerId: 'globex' }],
    ];
    const answers: Record<string, string> = {};
    for (const [method, url, body] of attempts) {
      const res: Reply = await t.http(method, url, body, a);
      answers[`${method} ${url}`] = `${res.status} ${res.body?.code ?? ''}`.trim();
      // Never a body that carries globex's data.
      expect(JSON.stringify(res.body ?? '')).not.toMatch(/gina|DSG-PRO|SO-GLOBEX/);
    }
    for (const [route, answer] of Object.entries(answers)) {
      expect({ route, answer }).toEqual({ route, answer: expect.stringMatching(/^(404 (ENTITLEMENT|CUSTOMER|ACCESS_REQUEST)\.NOT_FOUND|403 AUTH\.FORBIDDEN)$/) });
    }
    // The ones its role does allow at home are hidden as missing, not forbidden: no existence leak.
    expect(answers[`GET /v1/entitlements/${e}`]).toBe('404 ENTITLEMENT.NOT_FOUND');
    expect(answers['POST /v1/check']).toBe('404 CUSTOMER.NOT_FOUND');
    expect(answers['POST /v1/tokens']).toBe('404 CUSTOMER.NOT_FOUND');
    expect(answers[`POST /v1/entitlements/${e}/seat-assignments`]).toBe('404 ENTITLEMENT.NOT_FOUND');
    expect(answers['GET /v1/usage/export?period=2026-12&customerId=globex']).toBe('404 CUSTOMER.NOT_FOUND');

    expect(await t.store.headPosition()).toBe(head);
    expect(await globexAsAdmin()).toEqual(before);
  });

  it('cannot find globex through the customer search: every search answers acme or nothing', async () => {
    // The installation holds both (an operator's search finds them).
    expect((await t.http('GET', '/v1/customers')).body.items.map((c: { customerId: string }) => c.customerId)).toEqual(['acme', 'globex']);
    const found = async (query: string) => {
      const res = await t.http('GET', `/v1/customers${query}`, undefined, a);
      expect(res.status).toBe(200);
      expect(JSON.stringify(res.body)).not.toMatch(/globex/);
      return res.body.items.map((c: { customerId: string }) => c.customerId);
    };
    expect(await found('')).toEqual(['acme']);
    expect(await found('?search=')).toEqual(['acme']);
    expect(await found('?search=ac')).toEqual(['acme']);
    for (const query of ['?search=g', '?search=glob', '?search=globex', '?search=globex&limit=500']) expect(await found(query)).toEqual([]);
  });

  it('sees its own customer through the same routes, and only it in lists', async () => {
    const own = await t.http('GET', '/v1/entitlements', undefined, a);
    expect(own.status).toBe(200);
    expect(own.body.items.map((i: { customerId: string }) => i.customerId)).toEqual(['acme']);
    expect((await t.http('GET', '/v1/customers/acme/entitlements', undefined, a)).status).toBe(200);
    expect((await t.http('POST', '/v1/check', { customerId: 'acme', feature: 'dashboards' }, a)).body).toMatchObject({ allowed: true });
    expect((await t.http('POST', '/v1/tokens', { customerId: 'acme' }, a)).status).toBe(201);
    // The billing export without a customer filter: its own customer's meters only.
    const exported = await t.http('GET', `/v1/usage/export?period=${new Date().toISOString().slice(0, 7)}`, undefined, a);
    expect(exported.status).toBe(200);
    expect(String(exported.body)).not.toContain('globex');
    const requests = await t.http('GET', '/v1/access-requests', undefined, a);
    expect(requests.status).toBe(200);
    expect(requests.body.items.every((r: { customerId: string }) => r.customerId === 'acme')).toBe(true);
  });
});
