import { startTestIdp, type TestIdp } from '@el/identity/testing';
import { startLedgerApp, type LedgerTestApp } from '../testing/ledger-test-app';

describe('operators signed in at the identity provider (OIDC)', () => {
  let idp: TestIdp;
  let t: LedgerTestApp;
  beforeAll(async () => {
    idp = await startTestIdp();
    t = await startLedgerApp({ env: { OIDC_ISSUER: idp.issuer, OIDC_AUDIENCE: 'entitlement-ledger', OIDC_JWKS_URL: idp.jwksUrl, OIDC_ROLES_CLAIM: 'realm_access.roles' } });
  });
  afterAll(async () => {
    await t.close(true);
    await idp.close();
  });

  it('acts with the role its token maps to, and is recorded as the actor', async () => {
    const ana = { authorization: `Bearer ${await idp.token({ sub: 'ana', realm_access: { roles: ['operator'] } })}` };
    const granted = await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku: 'ANL-PRO' }, ana);
    expect(granted.status).toBe(201);
    const [event] = await t.eventsAfter(granted.body.position - 1);
    expect(event!.metadata).toMatchObject({ actor: { type: 'operator', id: 'oidc:ana' } });
    expect((await t.http('POST', '/v1/api-keys', { name: 'x', role: 'admin' }, ana)).body.code).toBe('AUTH.FORBIDDEN');
    // Who the console is talking to: the token's subject, its mapped role and that role's permissions.
    const me = await t.http('GET', '/v1/me', undefined, ana);
    expect(me).toMatchObject({ status: 200, body: { id: 'oidc:ana', kind: 'oidc', role: 'operator', customers: null } });
    expect(me.body.permissions).toEqual(expect.arrayContaining(['entitlements:grant', 'session:read']));
    expect(me.body.permissions).not.toContain('api-keys:manage');
    const auditor = { authorization: `Bearer ${await idp.token({ sub: 'aud', realm_access: { roles: ['auditor'] } })}` };
    expect((await t.http('GET', `/v1/entitlements/${granted.body.entitlementId}`, undefined, auditor)).status).toBe(200);
    expect((await t.http('POST', `/v1/entitlements/${granted.body.entitlementId}/suspend`, { reason: 'x' }, auditor)).body.code).toBe('AUTH.FORBIDDEN');
    const stranger = { authorization: `Bearer ${await idp.token({ sub: 'ana', realm_access: { roles: ['operator'] } }, { audience: 'another-app' })}` };
    expect((await t.http('GET', '/v1/catalog', undefined, stranger)).status).toBe(401);
  });
});
