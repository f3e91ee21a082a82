import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore, type EventStore } from '@el/event-store';
import { ConfigError, PLATFORM_ERROR_TABLE, type Principal } from '@el/platform';
import { StoreApiKeys } from './api-key-directory';
import { CredentialAuthenticator } from './credential-authenticator';
import { identityConfigSpec, oidcSettings } from './identity.config';
import { OidcVerifier } from './oidc';
import { startTestIdp, type TestIdp } from './testing/test-idp';
import { configReader } from '@el/platform';

const meta = () => ({ now: new Date().toISOString(), correlationId: 'c', causationId: 'c', actor: { type: 'system' as const, id: 'test' }, source: 'system' as const });
const config = configReader(identityConfigSpec);
const refusal = async (f: () => unknown): Promise<string> => {
  try {
    await f();
  } catch (e) {
    return `${PLATFORM_ERROR_TABLE[(e as { code: string }).code]} ${(e as { code: string }).code}: ${(e as Error).message}`;
  }
  return 'accepted';
};

describe('credentials: API keys from the key log, tokens from an identity provider', () => {
  let dir: string;
  let store: EventStore;
  let keys: StoreApiKeys;
  let idp: TestIdp;
  let auth: CredentialAuthenticator;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'el-identity-'));
    store = SqliteEventStore.open({ path: join(dir, 'events.db') });
    keys = new StoreApiKeys(store, 0);
    await keys.start();
    idp = await startTestIdp();
    const settings = oidcSettings(config({ OIDC_ISSUER: idp.issuer, OIDC_AUDIENCE: 'entitlement-ledger', OIDC_JWKS_URL: idp.jwksUrl, OIDC_ROLE_MAP: 'ops=operator,sec=auditor,portal=customer-admin' }))!;
    auth = new CredentialAuthenticator(keys, new OidcVerifier(settings));
  });
  afterEach(async () => {
    await keys.stop();
    await store.close();
    await idp.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an API key answers its principal, from the cache without a promise the second time; revocation ends it', async () => {
    const { key, record } = await keys.create({ name: 'billing', role: 'service', customers: ['acme'] }, meta());
    const first = await auth.authenticate(`Bearer ${key}`);
    expect(first).toEqual<Principal>({ id: `key:${record.keyId}`, kind: 'api-key', role: 'service', name: 'billing', customers: ['acme'] });
    const second = auth.authenticate(`Bearer ${key}`);
    expect(second).not.toBeInstanceOf(Promise);
    expect(second).toEqual(first);
    await keys.revoke(record.keyId, 'leaked', meta());
    expect(await refusal(() => auth.authenticate(`Bearer ${key}`))).toMatch(/^401 AUTH.INVALID_CREDENTIAL: .*revoked/);
    // The same id with another secret is not the key.
    expect(await refusal(() => auth.authenticate(`Bearer ${key.slice(0, -4)}AAAA`))).toMatch(/^401 AUTH.INVALID_CREDENTIAL/);
  });

  it('an operator token maps its roles claim to a role; issuer, audience, lifetime and signature are checked', async () => {
    const p = await auth.authenticate(`Bearer ${await idp.token({ sub: 'u-1', email: 'ana@example.com', roles: ['ops', 'unrelated'] })}`);
    expect(p).toEqual<Principal>({ id: 'oidc:u-1', kind: 'oidc', role: 'operator', name: 'ana@example.com', customers: null });
    // The most privileged mapped role wins.
    expect((await auth.authenticate(`Bearer ${await idp.token({ sub: 'u-2', roles: ['sec', 'ops'] })}`)).role).toBe('operator');
    const refused = async (token: Promise<string>) => refusal(async () => auth.authenticate(`Bearer ${await token}`));
    expect(await refused(idp.token({ sub: 'u-3', roles: ['ops'] }, { audience: 'someone-else' }))).toMatch(/401 AUTH.INVALID_CREDENTIAL: .*aud/);
    expect(await refused(idp.token({ sub: 'u-3', roles: ['ops'] }, { issuer: 'https://evil.example.com' }))).toMatch(/401 AUTH.INVALID_CREDENTIAL: .*iss/);
    expect(await refused(idp.token({ sub: 'u-3', roles: ['ops'] }, { expiresIn: '-10m' }))).toMatch(/401 AUTH.INVALID_CREDENTIAL: .*expired/);
    expect(await refused(idp.token({ sub: 'u-3', roles: ['ops'] }, { foreignKey: true }))).toMatch(/401 AUTH.INVALID_CREDENTIAL: .*signature/);
    expect(await refused(idp.token({ sub: 'u-3', roles: ['ops'] }, { kid: 'not-published' }))).toMatch(/401 AUTH.INVALID_CREDENTIAL: .*does not publish/);
    expect(await refused(idp.token({ sub: 'u-3', roles: ['guest'] }))).toMatch(/401 AUTH.INVALID_CREDENTIAL: .*no role/);
    expect(await refused(idp.token({ sub: 'u-3', roles: ['ops'] }, { noExpiry: true }))).toMatch(/401 AUTH.INVALID_CREDENTIAL: .*exp/);
    const long = 'x'.repeat(300);
    const [p1, p2] = [await auth.authenticate(`Bearer ${await idp.token({ sub: long, roles: ['ops'] })}`), await auth.authenticate(`Bearer ${await idp.token({ sub: `${long}y`, roles: ['ops'] })}`)];
    expect(p1.id).toMatch(/^oidc:sha256:[0-9a-f]{64}$/);
    expect(p1.id).not.toBe(p2.id);
    expect(await refused(idp.token({ sub: 'u-4', roles: ['portal'] }))).toMatch(/401 AUTH.INVALID_CREDENTIAL: .*customer_id/);
    expect(await auth.authenticate(`Bearer ${await idp.token({ sub: 'u-4', roles: ['portal'], customer_id: 'acme' })}`)).toMatchObject({ role: 'customer-admin', customers: ['acme'] });
    // The JWKS is fetched once and cached (plus once for the unknown kid).
    expect(idp.fetches()).toBeLessThanOrEqual(2);
  });

  it('refuses what is neither, and names what is missing in the configuration', async () => {
    expect(await refusal(() => auth.authenticate(undefined))).toMatch(/^401 AUTH.MISSING_CREDENTIAL/);
    expect(await refusal(() => auth.authenticate('Basic abc'))).toMatch(/^401 AUTH.INVALID_CREDENTIAL/);
    expect(await refusal(() => new CredentialAuthenticator(keys, null).authenticate('Bearer eyJ.e30.x'))).toMatch(/OIDC_ISSUER is not set/);
    expect(() => oidcSettings(config({ OIDC_ISSUER: 'https://idp' }))).toThrow(ConfigError);
    expect(() => oidcSettings(config({ OIDC_ISSUER: 'https://idp' }))).toThrow(/OIDC_AUDIENCE[\s\S]*OIDC_JWKS_URL/);
    expect(() => oidcSettings(config({ OIDC_ISSUER: 'https://idp', OIDC_AUDIENCE: 'a', OIDC_JWKS_URL: 'https://idp/jwks', OIDC_ROLE_MAP: 'ops=root' }))).toThrow(/OIDC_ROLE_MAP/);
    expect(() => oidcSettings(config({ OIDC_ISSUER: 'https://idp', OIDC_AUDIENCE: 'a', OIDC_JWKS_URL: 'http://idp.example.com/jwks' }))).toThrow(/OIDC_JWKS_URL: must be an https URL/);
  });
});
