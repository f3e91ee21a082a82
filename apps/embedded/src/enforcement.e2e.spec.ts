import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EntitlementClient, type ClientEvent } from '@el/sdk';
import { post, ROOT, start, type Running } from './testing/embedded-process';
import { until } from '@el/testing';

/**
 * The enforcement path of the whole system as a user meets it: `npm start`'s
 * process, its ledger API for writes, its check API, and the SDK over HTTP.
 */
const op: Record<string, string> = {};

describe('enforcement in the embedded system', () => {
  let dataDir: string;
  let app: Running;
  let head = 0;

  const write = async (path: string, body: unknown): Promise<any> => {
    const res = await app.fetch(`${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...op }, body: JSON.stringify(body) });
    const json = (await res.json()) as { position: number };
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
    head = Math.max(head, json.position);
    return json;
  };
  const grant = async (customerId: string, sku: string, extra: Record<string, unknown> = {}) => (await write('/v1/entitlements', { customerId, sku, quantity: 2, ...extra })).entitlementId as string;
  const check = async (body: Record<string, unknown>) => (await post(`${app.url}/v1/check`, { minPosition: head, ...body })).body;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'el-enf-e2e-'));
    app = await start({ DATA_DIR: dataDir, TOKEN_TTL_SECONDS: '60' });
  });
  afterAll(async () => {
    if (app.child.exitCode === null) {
      app.child.kill('SIGTERM');
      await app.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers every decision code in precedence order over HTTP, reading its own writes', async () => {
    const revoked = await grant('c-revoked', 'ANL-PRO');
    await write(`/v1/entitlements/${revoked}/revoke`, { reason: 'chargeback' });
    const suspended = await grant('c-suspended', 'ANL-PRO');
    await write(`/v1/entitlements/${suspended}/suspend`, { reason: 'unpaid invoice' });
    await grant('c-future', 'ANL-PRO', { validFrom: '2030-01-01T00:00:00Z' });
    const pro = await grant('c-pro', 'ANL-PRO', { validFrom: '2026-01-01T00:00:00Z' });
    await write(`/v1/entitlements/${pro}/seat-assignments`, { userId: 'bob' });
    await grant('c-free', 'ANL-FREE');
    const designer = await grant('c-designer', 'DSG-PRO');
    await write(`/v1/entitlements/${designer}/seat-assignments`, { userId: 'bob' });

    const table: [string, Record<string, unknown>, string][] = [
      ['NO_ENTITLEMENT', { customerId: 'c-nobody', feature: 'dashboards' }, 'customer c-nobody has no entitlement'],
      // Revoked outranks everything after it, even a feature the plan lacks.
      ['REVOKED', { customerId: 'c-revoked', feature: 'sso' }, 'entitlement was revoked: chargeback'],
      ['SUSPENDED', { customerId: 'c-suspended', feature: 'dashboards' }, 'entitlement is suspended: unpaid invoice'],
      ['NOT_YET_ACTIVE', { customerId: 'c-future', feature: 'dashboards' }, 'entitlement starts at 2030-01-01T00:00:00.000Z'],
      ['EXPIRED', { customerId: 'c-pro', feature: 'dashboards', at: '2027-02-01T00:00:00Z' }, 'entitlement expired at 2027-01-01T00:00:00.000Z'],
      ['IN_GRACE', { customerId: 'c-pro', feature: 'dashboards', at: '2027-01-05T00:00:00Z' }, 'expired at 2027-01-01T00:00:00.000Z, in grace until 2027-01-15T00:00:00.000Z'],
      ['FEATURE_NOT_INCLUDED', { customerId: 'c-pro', feature: 'sso' }, 'plan pro does not include sso'],
      ['REGION_BLOCKED', { customerId: 'c-free', feature: 'dashboards', region: 'APAC' }, 'use from APAC is not allowed (allowed: EU, US)'],
      ['SEAT_NOT_ASSIGNED', { customerId: 'c-pro', feature: 'dashboards', userId: 'eve' }, 'user eve holds no seat (1/2 assigned)'],
      ['DEVICE_LIMIT', { customerId: 'c-designer', feature: 'editor', userId: 'bob', deviceId: 'mac-9' }, 'device mac-9 is not activated on this entitlement'],
      ['USAGE_CAP_REACHED', { customerId: 'c-free', feature: 'api_calls', quantity: 1001 }, 'api_calls: 0 of 1000 used, 1001 more requested'],
      ['OVERAGE', { customerId: 'c-pro', feature: 'api_calls', quantity: 100_001 }, 'api_calls is over its soft cap of 100000; usage is billed as overage'],
      ['OK', { customerId: 'c-pro', feature: 'reports.export', userId: 'bob' }, 'ok'],
    ];
    for (const [code, request, reason] of table) {
      const d = await check(request);
      expect({ code: d.code, reason: d.reason, stale: d.stale }).toEqual({ code, reason, stale: false });
      expect(d.allowed).toBe(['OK', 'IN_GRACE', 'OVERAGE'].includes(code));
      expect(d.position).toBeGreaterThanOrEqual(head);
    }
  });

  it('sees each write in the very next check that names its position', async () => {
    const id = await grant('c-ryw', 'ANL-PRO');
    for (let i = 0; i < 10; i++) {
      const w = await write(`/v1/entitlements/${id}/${i % 2 === 0 ? 'suspend' : 'reinstate'}`, { reason: `round ${i}` });
      const d = (await post(`${app.url}/v1/check`, { customerId: 'c-ryw', feature: 'dashboards', minPosition: w.position })).body;
      expect({ code: d.code, stale: d.stale }).toEqual({ code: i % 2 === 0 ? 'SUSPENDED' : 'OK', stale: false });
    }
  });

  describe('the SDK', () => {
    let client: EntitlementClient;
    const events: ClientEvent[] = [];
    let entitlementId: string;
    afterAll(() => client?.close());

    it('gets a token, checks offline, and decides exactly like the enforcement API', async () => {
      entitlementId = await grant('c-sdk', 'ANL-PRO');
      await write(`/v1/entitlements/${entitlementId}/seat-assignments`, { userId: 'bob' });
      client = await EntitlementClient.start({
        ledgerUrl: app.url,
        issue: { customerId: 'c-sdk', userId: 'bob' },
        headers: await app.keyFor('service'),
        refreshAheadSeconds: 55,
        onEvent: (e) => events.push(e),
      });
      expect(client.status()).toMatchObject({ token: 'valid', customerId: 'c-sdk' });
      expect(client.status().position).toBeGreaterThanOrEqual(head);
      const requests = [
        { feature: 'reports.export', userId: 'bob' },
        { feature: 'sso' },
        { feature: 'projects', quantity: 30 },
        { feature: 'api_calls', quantity: 100_001 },
        { feature: 'dashboards', productId: 'designer' },
        { feature: 'dashboards', region: 'EU' },
      ];
      for (const r of requests) {
        const atMs = Date.now();
        const local = client.checkLocal(r.feature, { ...r, atMs });
        const api = (await post(`${app.url}/v1/check`, { customerId: 'c-sdk', ...r, at: new Date(atMs).toISOString(), minPosition: client.status().position })).body;
        expect(local).not.toBeNull();
        const { position: _p, catalogVersion: _c, stale: _s, ...decision } = api;
        // The local decision has no catalog (no upgrade hint) unless the application gives it one.
        expect({ ...local, upgradeHint: null }).toEqual({ ...decision, upgradeHint: null });
      }
    });

    it('falls back to the enforcement API for a user the token does not speak for', async () => {
      expect(client.checkLocal('dashboards', { userId: 'eve' })).toBeNull();
      const d = await client.check('dashboards', { userId: 'eve' });
      expect(d).toMatchObject({ source: 'api', code: 'SEAT_NOT_ASSIGNED', catalogVersion: 1, stale: false });
    });

    it('reports usage that the metering service counts once, and the enforcement API then enforces', async () => {
      // Analytics Pro: 100,000 API calls a month, soft cap (over it: allowed, billed as overage).
      client.reportUsage('api_calls', 60_000);
      client.reportUsage('api_calls', 50_000);
      expect(await client.flushUsage()).toBe(0);
      expect(await client.flushUsage()).toBe(0); // nothing left to send
      const usage = await (await app.fetch('/v1/customers/c-sdk/usage')).json() as { meters: { feature: string; used: number; remaining: number; overage: number; capType: string }[] };
      expect(usage.meters.find((m) => m.feature === 'api_calls')).toMatchObject({ used: 110_000, remaining: 0, overage: 10_000, capType: 'soft' });
      expect(await check({ customerId: 'c-sdk', feature: 'api_calls', quantity: 1 })).toMatchObject({ allowed: true, code: 'OVERAGE', remaining: 0 });
      expect(client.checkLocal('api_calls', { quantity: 1 })).toMatchObject({ allowed: true, code: 'OVERAGE' });
    });

    it('picks up an upgrade by itself, with no end-user action', async () => {
      expect(client.checkLocal('sso')).toMatchObject({ code: 'FEATURE_NOT_INCLUDED' });
      const upgraded = await write(`/v1/entitlements/${entitlementId}/change-plan`, { sku: 'ANL-ENT' });
      // TOKEN_TTL_SECONDS=60, refreshAheadSeconds=55: the background refresh comes about 5 s after each token.
      await until('the background refresh to carry the upgrade', () => (client.status().position ?? 0) >= upgraded.position, { timeoutMs: 30_000, intervalMs: 200 });
      expect(client.checkLocal('sso')).toMatchObject({ allowed: true, code: 'OK' });
      const sources = events.filter((e) => e.type === 'token').map((e) => (e as { source: string }).source);
      expect(sources[0]).toBe('issue');
      expect(sources.slice(1).every((s) => s === 'refresh')).toBe(true);
      expect(events.filter((e) => e.type === 'error')).toEqual([]);
    });

    it('keeps verifying across a key rotation (npm run keys:rotate while the system runs)', async () => {
      const before = client.status().kid;
      await promisify(execFile)(process.execPath, [join(ROOT, 'dist', 'apps', 'ledger', 'src', 'keys.js'), 'rotate'], { env: { ...process.env, DATA_DIR: dataDir } });
      const lic = await client.refresh();
      expect(lic).not.toBeNull();
      expect(client.status().kid).not.toBe(before);
      expect(client.checkLocal('sso')).toMatchObject({ code: 'OK' });
      const jwks = (await (await app.fetch(`/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
      expect(jwks.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([before, client.status().kid]));
    });
  });
});
