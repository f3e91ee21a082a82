import { startEmbeddedApp, type EmbeddedApp } from './testing/embedded-app';

describe('hardening: rate limits, CORS, HTML security headers, metrics access', () => {
  describe('with small limits and a browser origin allowed', () => {
    let t: EmbeddedApp;
    beforeAll(async () => {
      t = await startEmbeddedApp({ RATE_LIMIT_WRITES_PER_SECOND: '1', RATE_LIMIT_WRITES_BURST: '3', RATE_LIMIT_CHECKS_PER_SECOND: '2', CORS_ORIGINS: 'https://console.example.com', METRICS_PUBLIC: 'false' });
    });
    afterAll(() => t.close());

    it('answers 429 with Retry-After once a principal has used its writes, and other principals still write', async () => {
      const key = await t.keyFor('operator');
      const statuses: number[] = [];
      let limited: { headers: Record<string, unknown>; body: any } | null = null;
      for (let i = 0; i < 5; i++) {
        const res = await t.http('POST', '/v1/entitlements', { customerId: `rl-${i}`, sku: 'ANL-PRO' }, key);
        statuses.push(res.status);
        if (res.status === 429) limited ??= res;
      }
      expect(statuses.slice(0, 3)).toEqual([201, 201, 201]);
      expect(statuses.slice(3)).toEqual([429, 429]);
      expect(limited!.headers['retry-after']).toBe('1');
      expect(limited!.body).toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterSeconds: 1 } });
      // Reads are not writes; another principal has its own budget.
      expect((await t.http('GET', '/v1/catalog', undefined, key)).status).toBe(200);
      expect((await t.http('POST', '/v1/entitlements', { customerId: 'rl-other', sku: 'ANL-PRO' }, await t.keyFor('operator'))).status).toBe(201);
    });

    it('limits checks per principal too (RATE_LIMIT_CHECKS_PER_SECOND)', async () => {
      const key = await t.keyFor('service');
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await t.http('POST', '/v1/check', { customerId: 'acme', feature: 'dashboards' }, key));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 429, 429]);
      expect(answers[2]!.headers['retry-after']).toBe('1');
    });

    it('answers a preflight from an allowed origin, and nothing to another', async () => {
      const allowed = await t.app.inject({ method: 'OPTIONS', url: '/v1/entitlements', headers: { origin: 'https://console.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
      expect(allowed.headers['access-control-allow-origin']).toBe('https://console.example.com');
      expect(String(allowed.headers['access-control-allow-headers'])).toContain('authorization');
      const other = await t.app.inject({ method: 'OPTIONS', url: '/v1/entitlements', headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' } });
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('/metrics needs a credential when METRICS_PUBLIC=false', async () => {
      expect((await t.http('GET', '/metrics', undefined, { authorization: '' })).status).toBe(401);
      expect((await t.http('GET', '/metrics', undefined, await t.keyFor('customer-user', ['acme']))).status).toBe(403);
      expect((await t.http('GET', '/metrics')).status).toBe(200);
    });
  });

  describe('by default', () => {
    let t: EmbeddedApp;
    beforeAll(async () => (t = await startEmbeddedApp()));
    afterAll(() => t.close());

    it('sends no CORS headers, serves /metrics to scrapers, and puts security headers on HTML', async () => {
      const preflight = await t.app.inject({ method: 'OPTIONS', url: '/v1/entitlements', headers: { origin: 'https://console.example.com', 'access-control-request-method': 'POST' } });
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
      expect((await t.http('GET', '/metrics', undefined, { authorization: '' })).status).toBe(200);
      const docs = await t.app.inject({ method: 'GET', url: '/docs' });
      expect(docs.statusCode).toBe(200);
      expect(docs.headers['content-type']).toMatch(/text\/html/);
      expect(docs.headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer' });
      expect(String(docs.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
    });

    it('never writes a credential into its answers or documents X-Actor any more', async () => {
      const doc = (await t.http('GET', '/docs/openapi.json')).body;
      expect(JSON.stringify(doc).match(/.{60}X-Actor.{60}/i)).toBeNull();
      expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
      const refused = await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku: 'ANL-PRO' }, { 'x-actor': 'operator:alice' });
      expect(refused.body.errors[0]).toMatchObject({ path: 'headers.x-actor' });
      // The source recorded on events is only what the role may claim.
      const portal = await t.keyFor('customer-admin', ['acme']);
      const claimed = await t.http('POST', '/v1/access-requests', { customerId: 'acme', sku: 'ANL-ENT', reason: 'x' }, { ...portal, 'x-source': 'system' });
      expect(claimed).toMatchObject({ status: 400, body: { errors: [{ path: 'headers.x-source', message: expect.stringContaining('api, portal') }] } });
      expect((await t.http('POST', '/v1/access-requests', { customerId: 'acme', sku: 'ANL-ENT', reason: 'x' }, { ...portal, 'x-source': 'portal' })).status).toBe(201);
    });
  });
});
