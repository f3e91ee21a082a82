import { chmodSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { LICENSE_TOKEN_AUDIENCE, LICENSE_TOKEN_ISSUER, type LicenseTokenClaimsV1 } from '@el/contracts';
import { startLedgerApp, type LedgerTestApp } from '../testing/ledger-test-app';
import { Keystore } from '@el/platform';

const op: Record<string, string> = {};

describe('license tokens', () => {
  let t: LedgerTestApp;
  beforeEach(async () => (t = await startLedgerApp({ now: '2026-11-20T10:00:00Z', env: { QUERY_WAIT_MS: '200', TOKEN_TTL_SECONDS: '3600', TOKEN_REFRESH_GRACE_SECONDS: '86400' } })));
  afterEach(() => t.close(true));

  const grant = async (sku: string, quantity = 1) => {
    const res = await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku, quantity, validFrom: '2026-11-01T00:00:00Z' }, op);
    expect(res.status).toBe(201);
    return res.body as { entitlementId: string; position: number };
  };
  const jwks = async () => (await t.http<JSONWebKeySet>('GET', '/.well-known/jwks.json')).body;
  const verify = async (token: string, keys?: JSONWebKeySet) =>
    (await jwtVerify<LicenseTokenClaimsV1>(token, createLocalJWKSet(keys ?? (await jwks())), { algorithms: ['EdDSA'], issuer: LICENSE_TOKEN_ISSUER, audience: LICENSE_TOKEN_AUDIENCE, currentDate: t.clock.now() })).payload;

  it('issues an Ed25519 token that verifies against the JWKS and says what the customer owns', async () => {
    const g = await grant('ANL-PRO', 3);
    await t.http('POST', `/v1/entitlements/${g.entitlementId}/seat-assignments`, { userId: 'bob' }, op);
    const res = await t.http('POST', '/v1/tokens', { customerId: 'acme', userId: 'bob' }, op);
    expect(res.status).toBe(201);
    const header = decodeProtectedHeader(res.body.token);
    expect(header).toEqual({ alg: 'EdDSA', kid: res.body.keyId, typ: 'license+jwt' });
    const keys = await jwks();
    expect(keys.keys).toEqual([expect.objectContaining({ kty: 'OKP', crv: 'Ed25519', kid: res.body.keyId, alg: 'EdDSA', use: 'sig' })]);
    expect(JSON.stringify(keys)).not.toContain('"d"');
    const claims = await verify(res.body.token, keys);
    expect(claims).toMatchObject({ sub: 'acme', usr: 'bob', jti: res.body.tokenId, pos: res.body.position, exp: Date.parse('2026-11-20T11:00:00Z') / 1000 });
    expect(claims.ents).toEqual([
      expect.objectContaining({ id: g.entitlementId, product: 'analytics', plan: 'pro', sku: 'ANL-PRO', status: 'active', seats: 3, seated: true, validUntil: '2027-11-01T00:00:00.000Z', graceEndsAt: '2027-11-15T00:00:00.000Z' }),
    ]);
    expect(claims.ents[0]!.features).toMatchObject({ dashboards: {}, projects: { limit: 25 }, api_calls: { meter: { period: 'month', cap: 100000, capType: 'soft' } } });
    expect(res.body.position).toBeGreaterThanOrEqual(g.position);
  });

  it('records the issuance as an event without the token', async () => {
    const g = await grant('ANL-PRO');
    const before = await t.head();
    const res = await t.http('POST', '/v1/tokens', { customerId: 'acme', deviceId: 'laptop-1' }, op);
    const events = await t.eventsAfter(before);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      stream: 'license-tokens-acme',
      type: 'LicenseTokenIssued',
      data: { customerId: 'acme', tokenId: res.body.tokenId, keyId: res.body.keyId, entitlementIds: [g.entitlementId], userId: null, deviceId: 'laptop-1', position: res.body.position, refreshOf: null },
      metadata: { actor: { type: 'operator', id: expect.stringMatching(/^key:/) } },
    });
    expect(JSON.stringify(events[0])).not.toContain(res.body.token.split('.')[2]);
  });

  it('refreshes a token into one that reflects an upgrade, with no end-user action', async () => {
    const g = await grant('ANL-PRO');
    const first = (await t.http('POST', '/v1/tokens', { customerId: 'acme' }, op)).body;
    expect((await verify(first.token)).ents[0]!.features['sso']).toBeUndefined();
    const upgrade = await t.http('POST', `/v1/entitlements/${g.entitlementId}/change-plan`, { sku: 'ANL-ENT' }, op);
    expect(upgrade.status).toBe(200);
    // The application refreshes in the background, 50 minutes later.
    t.clock.set('2026-11-20T10:50:00Z');
    const refreshed = await t.http('POST', '/v1/tokens/refresh', { token: first.token });
    expect(refreshed.status).toBe(201);
    const claims = await verify(refreshed.body.token);
    expect(claims.ents[0]).toMatchObject({ plan: 'enterprise', sku: 'ANL-ENT', features: expect.objectContaining({ sso: {} }) });
    expect(claims.pos).toBeGreaterThanOrEqual(upgrade.body.position);
    const [event] = (await t.eventsAfter(refreshed.body.position)).filter((e) => e.type === 'LicenseTokenIssued');
    expect(event!.data).toMatchObject({ refreshOf: first.tokenId });
  });

  it('refreshes a downgrade and a revocation too', async () => {
    const g = await grant('ANL-ENT');
    const other = await grant('ANL-PRO');
    const first = (await t.http('POST', '/v1/tokens', { customerId: 'acme' }, op)).body;
    expect((await t.http('POST', `/v1/entitlements/${g.entitlementId}/change-plan`, { sku: 'ANL-PRO' }, op)).status).toBe(200);
    expect((await t.http('POST', `/v1/entitlements/${other.entitlementId}/revoke`, { reason: 'chargeback' }, op)).status).toBe(200);
    const claims = await verify((await t.http('POST', '/v1/tokens/refresh', { token: first.token })).body.token);
    const byId = Object.fromEntries(claims.ents.map((e) => [e.id, e]));
    expect(byId[g.entitlementId]).toMatchObject({ plan: 'pro', status: 'active' });
    expect(byId[other.entitlementId]).toMatchObject({ status: 'revoked', reason: 'chargeback' });
  });

  it('refuses to refresh a tampered token, a foreign one, or one expired beyond the grace', async () => {
    await grant('ANL-PRO');
    const { token } = (await t.http('POST', '/v1/tokens', { customerId: 'acme' }, op)).body;
    const [h, p, s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'globex' })).toString('base64url');
    const tampered = await t.http('POST', '/v1/tokens/refresh', { token: `${h}.${forged}.${s}` });
    expect(tampered.status).toBe(401);
    expect(tampered.body.code).toBe('TOKEN.INVALID');
    expect((await t.http('POST', '/v1/tokens/refresh', { token: 'not-a-token' })).status).toBe(401);
    t.clock.set('2026-11-21T10:59:00Z'); // expired 23h59m ago: inside the 24h grace
    expect((await t.http('POST', '/v1/tokens/refresh', { token })).status).toBe(201);
    t.clock.set('2026-11-21T11:01:00Z');
    const late = await t.http('POST', '/v1/tokens/refresh', { token });
    expect(late.status).toBe(401);
    expect(late.body.message).toContain('TOKEN_REFRESH_GRACE_SECONDS');
  });

  it('keeps tokens signed before a rotation verifiable for the overlap window', async () => {
    await grant('ANL-PRO');
    const old = (await t.http('POST', '/v1/tokens', { customerId: 'acme' }, op)).body;
    // `npm run keys:rotate` against the same directory while the ledger runs.
    t.clock.set('2026-11-20T10:01:00Z');
    const ks = await Keystore.open(join(t.dataDir, 'keys'), { create: false, overlapDays: 7, now: t.clock.now() });
    const newKid = await ks.rotate(t.clock.now());
    const fresh = (await t.http('POST', '/v1/tokens', { customerId: 'acme' }, op)).body;
    expect(fresh.keyId).toBe(newKid);
    expect(decodeProtectedHeader(fresh.token).kid).toBe(newKid);
    const keys = await jwks();
    expect(keys.keys.map((k) => k.kid).sort()).toEqual([old.keyId, newKid].sort());
    await expect(verify(old.token, keys)).resolves.toMatchObject({ jti: old.tokenId });
    await expect(verify(fresh.token, keys)).resolves.toMatchObject({ jti: fresh.tokenId });
    // Past the overlap window the retired key is no longer published.
    t.clock.set('2026-11-27T10:02:00Z');
    expect((await jwks()).keys.map((k) => k.kid)).toEqual([newKid]);
  });

  it('validates the request with field paths', async () => {
    const res = await t.http('POST', '/v1/tokens', { customerId: 'a b', minPosition: -1 }, op);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['customerId', 'minPosition']);
    expect((await t.http('POST', '/v1/tokens/refresh', {})).body.errors[0].path).toBe('token');
  });

  it('generates the keystore on the first start with owner-only permissions, and reuses it', async () => {
    const path = join(t.dataDir, 'keys', 'keystore.json');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const kid = (await jwks()).keys[0]!.kid;
    await t.close();
    t = await startLedgerApp({ dataDir: t.dataDir });
    expect((await jwks()).keys.map((k) => k.kid)).toEqual([kid]);
    expect(readFileSync(path, 'utf8')).toContain(kid);
  });

  it('refuses a keystore others can read, unless KEYSTORE_ALLOW_SHARED_READ says a secret volume mounts it so', async () => {
    const path = join(t.dataDir, 'keys', 'keystore.json');
    await t.close();
    chmodSync(path, 0o644);
    await expect(startLedgerApp({ dataDir: t.dataDir })).rejects.toThrow(/KEYSTORE_DIR: .*keystore\.json .*readable by others \(mode 0644\).*KEYSTORE_ALLOW_SHARED_READ/);
    t = await startLedgerApp({ dataDir: t.dataDir, env: { KEYSTORE_ALLOW_SHARED_READ: 'true' } });
    expect((await jwks()).keys).toHaveLength(1);
  });
});

describe('license token keystore configuration', () => {
  it('refuses to boot without a key when KEYSTORE_CREATE=false, naming the variable', async () => {
    await expect(startLedgerApp({ env: { KEYSTORE_CREATE: 'false' } })).rejects.toThrow(/KEYSTORE_DIR: no signing key in .*keystore\.json/);
  });
});
