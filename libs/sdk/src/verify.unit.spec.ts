import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { LICENSE_TOKEN_AUDIENCE, LICENSE_TOKEN_ISSUER, type LicenseEntitlementV1 } from '@el/contracts';
import { LicenseKeySet, LicenseTokenError, verifyLicenseToken } from './verify';

const NOW = Date.parse('2026-11-20T10:00:00Z');
const sec = (ms: number) => Math.floor(ms / 1000);

const ent: LicenseEntitlementV1 = {
  id: 'e1',
  product: 'analytics',
  plan: 'pro',
  sku: 'ANL-PRO',
  tier: 1,
  status: 'active',
  reason: null,
  validFrom: '2026-11-01T00:00:00.000Z',
  validUntil: '2027-11-01T00:00:00.000Z',
  graceEndsAt: '2027-11-15T00:00:00.000Z',
  regions: null,
  seats: 3,
  features: { dashboards: {}, projects: { limit: 25 } },
  seated: true,
};

let ledgerKey: Awaited<ReturnType<typeof generateKeyPair>>;
let publicJwk: JWK;
let keys: LicenseKeySet;

beforeAll(async () => {
  ledgerKey = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  publicJwk = { ...(await exportJWK(ledgerKey.publicKey)), kid: 'k1', alg: 'EdDSA', use: 'sig' };
  keys = new LicenseKeySet({ keys: [publicJwk] });
});

interface SignOptions {
  readonly key?: Parameters<SignJWT['sign']>[0];
  readonly header?: Record<string, unknown>;
  readonly claims?: Record<string, unknown>;
  readonly iat?: number;
  readonly nbf?: number;
  readonly exp?: number;
  readonly iss?: string;
  readonly aud?: string;
}

/** Signs like the ledger does (same header and claims), with overrides. */
function sign(o: SignOptions = {}): Promise<string> {
  return new SignJWT({ pos: 42, usr: 'bob', ents: [ent], ...o.claims })
    .setProtectedHeader({ alg: 'EdDSA', kid: 'k1', typ: 'license+jwt', ...o.header } as never)
    .setIssuer(o.iss ?? LICENSE_TOKEN_ISSUER)
    .setAudience(o.aud ?? LICENSE_TOKEN_AUDIENCE)
    .setSubject('acme')
    .setJti('t1')
    .setIssuedAt(o.iat ?? sec(NOW))
    .setNotBefore(o.nbf ?? sec(NOW))
    .setExpirationTime(o.exp ?? sec(NOW) + 3600)
    .sign(o.key ?? ledgerKey.privateKey);
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

async function rejection(token: string, options = {}): Promise<LicenseTokenError> {
  const err = await verifyLicenseToken(token, keys, { now: NOW, ...options }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LicenseTokenError);
  return err as LicenseTokenError;
}

describe('verifyLicenseToken', () => {
  it('accepts a token of the ledger and precomputes its check subjects', async () => {
    const token = await sign();
    const lic = await verifyLicenseToken(token, keys, { now: NOW });
    expect(lic).toMatchObject({ kid: 'k1', customerId: 'acme', userId: 'bob', position: 42, expiresAtMs: NOW + 3_600_000 });
    expect(lic.subjects).toHaveLength(1);
    expect(lic.subjects[0]).toMatchObject({ entitlementId: 'e1', customerId: 'acme', planId: 'pro', seats: 3, validUntilMs: Date.parse('2027-11-01T00:00:00Z') });
    expect(lic.subjects[0]!.seatHolders).toEqual(new Set(['bob']));
  });

  it('rejects alg "none" (an unsigned token)', async () => {
    const [, payload] = (await sign()).split('.');
    const unsigned = `${b64({ alg: 'none', kid: 'k1', typ: 'license+jwt' })}.${payload}.`;
    expect((await rejection(unsigned)).code).toBe('ALG_NOT_ALLOWED');
  });

  it('rejects HS256 signed with the public key as the HMAC secret (algorithm confusion)', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(publicJwk));
    const forged = await sign({ key: Buffer.from(publicJwk.x!, 'base64url'), header: { alg: 'HS256' } });
    expect((await rejection(forged)).code).toBe('ALG_NOT_ALLOWED');
    const forged2 = await sign({ key: secret, header: { alg: 'HS256' } });
    expect((await rejection(forged2)).code).toBe('ALG_NOT_ALLOWED');
  });

  it('never uses a symmetric or foreign key from the key set', async () => {
    const secret = new TextEncoder().encode('shared-secret-shared-secret-32by');
    const mixed = new LicenseKeySet({ keys: [publicJwk, { kty: 'oct', kid: 'hmac', k: Buffer.from(secret).toString('base64url'), alg: 'HS256' }] });
    expect(mixed.kids).toEqual(['k1']);
    const forged = await sign({ key: secret, header: { alg: 'HS256', kid: 'hmac' } });
    await expect(verifyLicenseToken(forged, mixed, { now: NOW })).rejects.toMatchObject({ code: 'ALG_NOT_ALLOWED' });
    // An EdDSA header pointing at the oct key finds no key at all.
    const pointing = `${b64({ alg: 'EdDSA', kid: 'hmac', typ: 'license+jwt' })}.${(await sign()).split('.')[1]}.AAAA`;
    await expect(verifyLicenseToken(pointing, mixed, { now: NOW })).rejects.toMatchObject({ code: 'UNKNOWN_KID' });
  });

  it('rejects a kid the JWKS does not publish, and a missing kid', async () => {
    const rogue = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const err = await rejection(await sign({ key: rogue.privateKey, header: { kid: 'k-rogue' } }));
    expect(err.code).toBe('UNKNOWN_KID');
    expect(err.message).toContain('k-rogue');
    const noKid = `${b64({ alg: 'EdDSA', typ: 'license+jwt' })}.${(await sign()).split('.')[1]}.AAAA`;
    expect((await rejection(noKid)).code).toBe('UNKNOWN_KID');
  });

  it('rejects a token signed by another key under a published kid', async () => {
    const rogue = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    expect((await rejection(await sign({ key: rogue.privateKey }))).code).toBe('BAD_SIGNATURE');
  });

  it('rejects an expired token, tolerating only the bounded leeway', async () => {
    const token = await sign({ iat: sec(NOW) - 7200, nbf: sec(NOW) - 7200, exp: sec(NOW) - 20 });
    await expect(verifyLicenseToken(token, keys, { now: NOW })).resolves.toMatchObject({ customerId: 'acme' }); // 20 s late, leeway 30 s
    expect((await rejection(token, { leewaySeconds: 10 })).code).toBe('EXPIRED');
    expect((await rejection(await sign({ iat: sec(NOW) - 7200, nbf: sec(NOW) - 7200, exp: sec(NOW) - 3600 }))).code).toBe('EXPIRED');
    await expect(verifyLicenseToken(token, keys, { now: NOW, leewaySeconds: 86_400 })).rejects.toThrow(RangeError);
  });

  it('rejects a token that is not yet valid', async () => {
    const token = await sign({ iat: sec(NOW) + 600, nbf: sec(NOW) + 600, exp: sec(NOW) + 4200 });
    expect((await rejection(token)).code).toBe('NOT_YET_VALID');
    await expect(verifyLicenseToken(token, keys, { now: NOW + 590_000 })).resolves.toBeDefined();
  });

  it('rejects a tampered payload, header or signature', async () => {
    const token = await sign();
    const [h, p, s] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const upgraded = b64({ ...claims, ents: [{ ...ent, plan: 'enterprise', features: { ...ent.features, sso: {} } }] });
    expect((await rejection(`${h}.${upgraded}.${s}`)).code).toBe('BAD_SIGNATURE');
    expect((await rejection(`${h}.${b64({ ...claims, exp: claims.exp + 86_400 * 365 })}.${s}`)).code).toBe('BAD_SIGNATURE');
    expect((await rejection(`${b64({ alg: 'EdDSA', kid: 'k1', typ: 'license+jwt', x: 1 })}.${p}.${s}`)).code).toBe('BAD_SIGNATURE');
    const flipped = s.slice(0, 10) + (s[10] === 'A' ? 'B' : 'A') + s.slice(11);
    expect((await rejection(`${h}.${p}.${flipped}`)).code).toBe('BAD_SIGNATURE');
  });

  it('rejects tokens for another issuer, audience or type, and claims that are not a license', async () => {
    expect((await rejection(await sign({ iss: 'urn:someone-else' }))).code).toBe('CLAIMS_INVALID');
    expect((await rejection(await sign({ aud: 'urn:other-app' }))).code).toBe('CLAIMS_INVALID');
    expect((await rejection(await sign({ header: { typ: 'JWT' } }))).code).toBe('CLAIMS_INVALID');
    expect((await rejection(await sign({ claims: { ents: 'all' } }))).code).toBe('CLAIMS_INVALID');
    expect((await rejection(await sign({ claims: { ents: [{ ...ent, status: 'godmode' }] } }))).message).toContain('ents[0]');
    expect((await rejection(await sign({ claims: { pos: -1 } }))).code).toBe('CLAIMS_INVALID');
  });

  it('rejects what is not a compact JWS', async () => {
    for (const bad of ['', 'abc', 'a.b', 'a.b.c.d', '!!.??.##']) expect((await rejection(bad)).code).toBe('MALFORMED');
  });
});
