import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '@el/testing';
import { start, type Running } from './testing/embedded-process';

/**
 * What a careless or hostile caller can send, on every route of the running
 * system (read from its own OpenAPI document): a clear 4xx, never a 500, and
 * nothing written.
 */
describe('pathological input, on every route of npm start', () => {
  let dataDir: string;
  let app: Running;
  let operations: { method: string; path: string; url: string; hasBody: boolean }[] = [];

  const send = async (method: string, url: string, body: string) => {
    const res = await app.fetch(`${url}`, { method, headers: { 'content-type': 'application/json' }, body });
    const text = await res.text();
    let json: any = null;
    try {
      json = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: json };
  };
  const head = async () => ((await (await app.fetch(`/health`)).json()) as { components: { eventStore: { head: number } } }).components.eventStore.head;
  const nested = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'el-pathological-'));
    app = await start({ DATA_DIR: dataDir });
    const doc = (await (await app.fetch(`/docs/openapi.json`)).json()) as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
    operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
        .map(([method, op]) => ({ method: method.toUpperCase(), path, url: path.replace(/\{[^}]+\}/g, 'x1'), hasBody: op.requestBody !== undefined })),
    );
  });
  afterAll(async () => {
    if (app.child.exitCode === null) {
      app.child.kill('SIGTERM');
      await app.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('knows its routes (the walk below covers the whole API)', () => {
    expect(operations.filter((o) => o.hasBody).map((o) => `${o.method} ${o.path}`)).toEqual(
      expect.arrayContaining(['POST /v1/orders', 'POST /v1/entitlements', 'POST /v1/entitlements/{id}/seat-assignments', 'POST /v1/access-requests', 'POST /v1/tokens', 'POST /v1/check', 'POST /v1/check/batch']),
    );
    expect(operations.length).toBeGreaterThan(30);
  });

  it('answers a body nested 10,000 levels deep with 400 on every route that takes a body, and never 500 anywhere', async () => {
    const before = await head();
    const deep = nested(10_000);
    const answers: string[] = [];
    for (const o of operations) {
      const res = await send(o.method === 'GET' ? 'POST' : o.method, o.url, deep);
      if (res.status >= 500 || (o.hasBody && (res.status !== 400 || res.body?.code !== 'VALIDATION_FAILED'))) answers.push(`${o.method} ${o.path}: ${res.status} ${JSON.stringify(res.body)}`.slice(0, 300));
    }
    expect(answers).toEqual([]);
    // The NestJS routes say why: the depth, before any validation walks it.
    const order = await send('POST', '/v1/orders', deep);
    expect(order.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ path: '(body)', constraint: 'maxDepth' }] });
    expect(await head()).toBe(before);
  });

  it('refuses null where a value belongs, like any other wrong type', async () => {
    const before = await head();
    const grant = await send('POST', '/v1/entitlements', JSON.stringify({ customerId: 'acme', sku: 'ANL-PRO', quantity: null }));
    expect(grant).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED', errors: [expect.objectContaining({ path: 'quantity' })] } });
    const order = await send('POST', '/v1/orders', JSON.stringify({ orderId: 'SO-NULL', customerId: 'acme', lines: [{ lineId: '1', sku: 'ANL-PRO', quantity: null, action: 'new' }] }));
    expect(order).toMatchObject({ status: 400, body: { errors: [expect.objectContaining({ path: 'lines[0].quantity' })] } });
    for (const [url, body, path] of [
      ['/v1/entitlements', { customerId: null, sku: 'ANL-PRO' }, 'customerId'],
      ['/v1/entitlements', { customerId: 'acme', sku: 'ANL-PRO', validFrom: null }, 'validFrom'],
      ['/v1/access-requests', { customerId: 'acme', sku: 'ANL-PRO', reason: 'x', entitlementId: null }, 'entitlementId'],
      ['/v1/tokens', { customerId: 'acme', userId: null }, 'userId'],
      ['/v1/check', { customerId: 'acme', feature: 'sso', quantity: null }, 'quantity'],
    ] as const) {
      const res = await send('POST', url, JSON.stringify(body));
      expect({ url, status: res.status, paths: res.body?.errors?.map((e: { path: string }) => e.path) }).toEqual({ url, status: 400, paths: expect.arrayContaining([path]) });
    }
    expect(await head()).toBe(before);
  });

  it('refuses text with a lone surrogate before it reaches the log, so the audit feed keeps going', async () => {
    // Found by the hostile-bodies fuzz test: a reason of "\ud800" was stored, and the audit feed stopped at that event
    // for good (such a string has no canonical JSON form to hash).
    const grant = await send('POST', '/v1/entitlements', JSON.stringify({ customerId: 'acme', sku: 'ANL-PRO' }));
    expect(grant.status).toBe(201);
    const before = await head();
    for (const [url, body, path] of [
      [`/v1/entitlements/${grant.body.entitlementId}/suspend`, { reason: 'unpaid \ud800' }, 'reason'],
      ['/v1/orders', { orderId: 'SO-SURROGATE', customerId: 'acme', lines: [{ lineId: '1', sku: 'ANL-\udc00', quantity: 1, action: 'new' }] }, 'lines[0].sku'],
      ['/v1/access-requests', { customerId: 'acme', sku: 'ANL-PRO', reason: 'more seats \ud83d' }, 'reason'],
    ] as const) {
      const res = await send('POST', url, JSON.stringify(body));
      expect({ url, status: res.status, errors: res.body?.errors }).toEqual({ url, status: 400, errors: [expect.objectContaining({ path, constraint: 'wellFormedUnicode' })] });
    }
    expect(await head()).toBe(before);
    // Well-formed text of any script is stored as sent, and audited.
    const reason = 'unbezahlt — 未払い 🙂';
    const suspended = await send('POST', `/v1/entitlements/${grant.body.entitlementId}/suspend`, JSON.stringify({ reason }));
    expect(suspended).toMatchObject({ status: 200, body: { entitlement: { statusReason: reason } } });
    const audit = async () => ((await (await app.fetch('/health')).json()) as { components: { audit: { status: string; lastPosition: number } } }).components.audit;
    await until('the audit log to hold the suspension', async () => (await audit()).lastPosition >= suspended.body.position);
    expect((await audit()).status).toBe('up');
  });

  it('refuses megabytes of text headed for the immutable log, and bodies over the size limit', async () => {
    const before = await head();
    const reason = await send('POST', '/v1/access-requests', JSON.stringify({ customerId: 'acme', sku: 'ANL-PRO', reason: 'x'.repeat(500_000) }));
    expect(reason).toMatchObject({ status: 400, body: { errors: [expect.objectContaining({ path: 'reason', constraint: 'maxLength' })] } });
    const sku = await send('POST', '/v1/orders', JSON.stringify({ orderId: 'SO-BIG', customerId: 'acme', lines: [{ lineId: '1', sku: 'S'.repeat(100_000), quantity: 1, action: 'new' }] }));
    expect(sku).toMatchObject({ status: 400, body: { errors: [expect.objectContaining({ path: 'lines[0].sku', constraint: 'maxLength' })] } });
    const huge = await send('POST', '/v1/orders', JSON.stringify({ orderId: 'SO-HUGE', customerId: 'acme', lines: [], pad: 'x'.repeat(2 * 1024 * 1024) }));
    expect(huge).toMatchObject({ status: 413, body: { code: 'PAYLOAD_TOO_LARGE' } });
    const correlation = await app.fetch(`/v1/entitlements`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-correlation-id': 'c'.repeat(10_000) },
      body: JSON.stringify({ customerId: 'acme', sku: 'ANL-PRO' }),
    });
    expect(correlation.status).toBe(400);
    expect(await head()).toBe(before);
  });
});
