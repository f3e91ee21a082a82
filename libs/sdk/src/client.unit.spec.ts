import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JSONWebKeySet } from 'jose';
import { LICENSE_TOKEN_AUDIENCE, LICENSE_TOKEN_ISSUER, type LicenseEntitlementV1 } from '@el/contracts';
import { EntitlementClient, type ClientEvent } from './client';

const NOW = Date.parse('2026-11-20T10:00:00Z');
const UNREACHABLE = 'http://127.0.0.1:1';

const pro: LicenseEntitlementV1 = {
  id: 'e1',
  product: 'analytics',
  plan: 'pro',
  sku: 'ANL-PRO',
  tier: 1,
  status: 'active',
  reason: null,
  validFrom: '2026-11-01T00:00:00.000Z',
  validUntil: '2026-11-20T12:00:00.000Z',
  graceEndsAt: '2026-11-21T12:00:00.000Z',
  regions: ['EU'],
  seats: 3,
  features: { dashboards: {}, projects: { limit: 25 } },
  seated: true,
};

let jwks: JSONWebKeySet;
let signKey: CryptoKeyLike;
type CryptoKeyLike = Parameters<SignJWT['sign']>[0];

beforeAll(async () => {
  const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  signKey = pair.privateKey;
  jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'EdDSA' }] };
});

const token = (ents: LicenseEntitlementV1[] = [pro], ttl = 3600) =>
  new SignJWT({ pos: 7, usr: 'bob', ents: ents as never })
    .setProtectedHeader({ alg: 'EdDSA', kid: 'k1', typ: 'license+jwt' })
    .setIssuer(LICENSE_TOKEN_ISSUER)
    .setAudience(LICENSE_TOKEN_AUDIENCE)
    .setSubject('acme')
    .setJti('t1')
    .setIssuedAt(NOW / 1000)
    .setNotBefore(NOW / 1000)
    .setExpirationTime(NOW / 1000 + ttl)
    .sign(signKey);

describe('EntitlementClient offline', () => {
  let now = NOW;
  const clock = () => now;
  beforeEach(() => (now = NOW));

  it('decides locally from a pinned token with the decision function', async () => {
    const client = await EntitlementClient.start({ jwks, token: await token(), now: clock });
    expect(client.status()).toMatchObject({ token: 'valid', position: 7, customerId: 'acme', kid: 'k1' });
    expect(client.checkLocal('dashboards')).toMatchObject({ allowed: true, code: 'OK', entitlementId: 'e1' });
    expect(client.checkLocal('projects', { quantity: 5 })).toMatchObject({ allowed: true, remaining: 20 });
    expect(client.checkLocal('projects', { quantity: 30 })).toMatchObject({ allowed: false, code: 'USAGE_CAP_REACHED', remaining: 25 });
    expect(client.checkLocal('sso')).toMatchObject({ allowed: false, code: 'FEATURE_NOT_INCLUDED' });
    expect(client.checkLocal('dashboards', { region: 'US' })).toMatchObject({ allowed: false, code: 'REGION_BLOCKED' });
    expect(client.checkLocal('dashboards', { userId: 'bob' })).toMatchObject({ allowed: true, code: 'OK' });
    expect(client.checkLocal('dashboards', { productId: 'designer' })).toMatchObject({ allowed: false, code: 'NO_ENTITLEMENT' });
    // The token cannot speak for an instant after it expires.
    expect(client.checkLocal('dashboards', { atMs: Date.parse('2026-11-20T12:30:00Z') })).toBeNull();
    now = NOW + 1000;
    expect(await client.check('dashboards')).toMatchObject({ source: 'token', position: 7, catalogVersion: null, stale: false, code: 'OK' });
    client.close();
  });

  it('cannot answer for a user or device the token is not bound to', async () => {
    const client = await EntitlementClient.start({ jwks, token: await token(), now: clock });
    expect(client.checkLocal('dashboards', { userId: 'eve' })).toBeNull();
    expect(client.checkLocal('dashboards', { deviceId: 'laptop-1' })).toBeNull();
    // No enforcement API configured: the check fails closed and says why.
    expect(await client.check('dashboards', { userId: 'eve' })).toMatchObject({ allowed: false, source: 'unavailable', stale: true, reason: expect.stringContaining('no enforcement API') });
    client.close();
  });

  it('stops deciding locally once the token expired (beyond the leeway)', async () => {
    const client = await EntitlementClient.start({ jwks, token: await token(), now: clock, leewaySeconds: 10 });
    now = NOW + 3600_000 + 9_000;
    expect(client.checkLocal('dashboards')).not.toBeNull();
    now = NOW + 3600_000 + 11_000;
    expect(client.checkLocal('dashboards')).toBeNull();
    expect(client.status().token).toBe('expired');
    client.close();
  });

  it('refuses a token it cannot verify, reports it, and falls back', async () => {
    const events: ClientEvent[] = [];
    const t = await token();
    const [h, , s] = t.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ sub: 'acme', pos: 9, ents: [] })).toString('base64url')}.${s}`;
    const client = await EntitlementClient.start({ jwks, token: forged, customerId: 'acme', now: clock, onEvent: (e) => events.push(e) });
    expect(client.status().token).toBe('none');
    expect(events).toEqual([expect.objectContaining({ type: 'error', stage: 'token', error: expect.objectContaining({ code: 'BAD_SIGNATURE' }) })]);
    expect(client.checkLocal('dashboards')).toBeNull();
    client.close();
  });

  it('refuses a token for another customer than the one it serves', async () => {
    const events: ClientEvent[] = [];
    const client = await EntitlementClient.start({ jwks, token: await token(), customerId: 'globex', now: clock, onEvent: (e) => events.push(e) });
    expect(client.status().token).toBe('none');
    expect((events[0] as { error: Error }).error.message).toContain('customer acme');
    client.close();
  });

  it('starts offline from its cache: the last token, verified with a pinned key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'el-sdk-'));
    try {
      const first = await EntitlementClient.start({ jwks, token: await token(), cacheDir: dir, now: clock });
      first.close();
      expect(statSync(join(dir, 'entitlement-client.json')).mode & 0o777).toBe(0o600);
      const events: ClientEvent[] = [];
      // The ledger is unreachable: the cached token verifies with the cached key because its thumbprint is pinned.
      const trustedKeys = [await calculateJwkThumbprint(jwks.keys[0]!, 'sha256')];
      const second = await EntitlementClient.start({ ledgerUrl: UNREACHABLE, cacheDir: dir, trustedKeys, now: clock, requestTimeoutMs: 500, onEvent: (e) => events.push(e) });
      expect(second.status()).toMatchObject({ token: 'valid', position: 7 });
      expect(second.checkLocal('dashboards')).toMatchObject({ code: 'OK' });
      expect(events.filter((e) => e.type === 'token')).toEqual([expect.objectContaining({ source: 'cache' })]);
      expect(events.some((e) => e.type === 'error' && e.stage === 'jwks')).toBe(true);
      second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a key planted in its cache directory, and the token signed with it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'el-sdk-'));
    try {
      // An attacker who can write the cache replaces the JWKS with their key and a token granting everything.
      const attacker = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
      const forged = await new SignJWT({ pos: 99, ents: [{ ...pro, features: { dashboards: {}, sso: {} } }] as never })
        .setProtectedHeader({ alg: 'EdDSA', kid: 'k1', typ: 'license+jwt' })
        .setIssuer(LICENSE_TOKEN_ISSUER)
        .setAudience(LICENSE_TOKEN_AUDIENCE)
        .setSubject('acme')
        .setJti('forged')
        .setIssuedAt(NOW / 1000)
        .setExpirationTime(NOW / 1000 + 3600)
        .sign(attacker.privateKey);
      const planted = { keys: [{ ...(await exportJWK(attacker.publicKey)), kid: 'k1', alg: 'EdDSA' }] };
      writeFileSync(join(dir, 'entitlement-client.json'), JSON.stringify({ version: 1, token: forged, jwks: planted }));
      const trustedKeys = [await calculateJwkThumbprint(jwks.keys[0]!, 'sha256')];
      for (const pins of [undefined, trustedKeys]) {
        const events: ClientEvent[] = [];
        const client = await EntitlementClient.start({ ledgerUrl: UNREACHABLE, cacheDir: dir, ...(pins ? { trustedKeys: pins } : {}), customerId: 'acme', now: clock, requestTimeoutMs: 300, onEvent: (e) => events.push(e) });
        expect(client.status().token).toBe('none');
        expect(client.checkLocal('sso')).toBeNull(); // no verified token: nothing is decided locally
        expect(events).toContainEqual(expect.objectContaining({ type: 'error', stage: 'cache', error: expect.objectContaining({ message: expect.stringContaining('not pinned') }) }));
        expect(events.filter((e) => e.type === 'token')).toEqual([]);
        client.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports usage in batches with ids that survive retries, and counts it locally at once', async () => {
    // A metering endpoint that fails the first delivery and accepts the next (what a restart or a 503 looks like).
    const received: { id: string; data: { feature: string; quantity: number } }[][] = [];
    let calls = 0;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        calls++;
        const events = (JSON.parse(body) as { events: { id: string; source: string; data: { feature: string; quantity: number } }[] }).events;
        received.push(events);
        if (calls === 1) return void res.writeHead(503).end('{}');
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ results: events.map((e) => ({ source: e.source, id: e.id, status: 'accepted' })) }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const meteringUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const metered: LicenseEntitlementV1 = { ...pro, features: { ...pro.features, api_calls: { meter: { period: 'month', cap: 1000, capType: 'hard' } } } };
    const events: ClientEvent[] = [];
    const client = await EntitlementClient.start({ jwks, token: await token([metered]), now: clock, meteringUrl, usageFlushMs: 60_000, onEvent: (e) => events.push(e) });
    try {
      client.reportUsage('api_calls', 400);
      client.reportUsage('api_calls', 400, { userId: 'bob' });
      // The local decision counts the client's own usage before any answer.
      expect(client.checkLocal('api_calls', { quantity: 300 })).toMatchObject({ allowed: false, code: 'USAGE_CAP_REACHED', remaining: 200 });
      expect(await client.flushUsage()).toBe(2); // 503: still queued
      expect(events).toContainEqual(expect.objectContaining({ type: 'error', stage: 'usage' }));
      expect(await client.flushUsage()).toBe(0);
      expect(received).toHaveLength(2);
      // The retry carried the very same events: the metering service counts each id once.
      expect(received[1]!.map((e) => e.id)).toEqual(received[0]!.map((e) => e.id));
      expect(new Set(received[0]!.map((e) => e.id)).size).toBe(2);
      expect(received[0]!.map((e) => [e.data.feature, e.data.quantity])).toEqual([['api_calls', 400], ['api_calls', 400]]);
      expect(() => client.reportUsage('api_calls', -1)).toThrow(RangeError);
    } finally {
      client.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('estimates usage locally as the meter counts it: events, a maximum, distinct users', async () => {
    const metered: LicenseEntitlementV1 = {
      ...pro,
      features: {
        ...pro.features,
        exports: { meter: { period: 'month', cap: 3, capType: 'hard', aggregation: 'count' } },
        sessions: { meter: { period: 'day', cap: 50, capType: 'hard', aggregation: 'max' } },
        seats_used: { meter: { period: 'month', cap: 2, capType: 'hard', aggregation: 'unique_count', of: 'userId' } },
      },
    };
    const client = await EntitlementClient.start({ jwks, token: await token([metered]), now: clock, usageFlushMs: 60_000 });
    try {
      client.reportUsage('exports', 100);
      client.reportUsage('exports', 100);
      expect(client.checkLocal('exports')).toMatchObject({ allowed: true, remaining: 0 });
      client.reportUsage('exports', 1);
      expect(client.checkLocal('exports')).toMatchObject({ allowed: false, code: 'USAGE_CAP_REACHED' });
      client.reportUsage('sessions', 30);
      client.reportUsage('sessions', 10);
      // The maximum so far is 30 (not 40); a use of 20 leaves it at 30, one of 51 would pass the cap of 50.
      expect(client.checkLocal('sessions', { quantity: 20 })).toMatchObject({ allowed: true, remaining: 20 });
      expect(client.checkLocal('sessions', { quantity: 51 })).toMatchObject({ allowed: false, code: 'USAGE_CAP_REACHED' });
      client.reportUsage('seats_used', 1, { userId: 'ann' });
      client.reportUsage('seats_used', 1, { userId: 'ann' });
      expect(client.checkLocal('seats_used')).toMatchObject({ allowed: true, remaining: 0 });
      client.reportUsage('seats_used', 1, { userId: 'bob' });
      expect(client.checkLocal('seats_used')).toMatchObject({ allowed: false, code: 'USAGE_CAP_REACHED' });
    } finally {
      client.close();
    }
  });

  it('insists on a way to verify and someone to serve', async () => {
    await expect(EntitlementClient.start({ token: 'x' })).rejects.toThrow(/ledgerUrl .* or pinned jwks/);
    await expect(EntitlementClient.start({ jwks })).rejects.toThrow(/give a token/);
  });
});
