import { PERMISSIONS, ROLES, type Permission, type Role } from '@el/platform';
import type { Session } from '@el/identity';
import { startEmbeddedApp, type EmbeddedApp } from './testing/embedded-app';

/** What a console learns from GET /v1/me: the credential's principal and every permission of its role. */
describe('GET /v1/me: who the caller is', () => {
  let t: EmbeddedApp;
  beforeAll(async () => (t = await startEmbeddedApp()));
  afterAll(() => t.close());

  const held = (role: Role) => (Object.keys(PERMISSIONS) as Permission[]).filter((p) => (PERMISSIONS[p] as readonly Role[]).includes(role));

  it.each(ROLES)('a %s key: its key id, name, role, customers and exactly the permissions of its role', async (role) => {
    const customers = role === 'customer-admin' || role === 'customer-user' ? ['acme'] : role === 'service' ? ['acme', 'globex'] : null;
    const key = await t.keyFor(role, customers, `${role} of the console test`);
    const keyId = /elk_([0-9a-f]{16})_/.exec(key['authorization']!)![1];
    const res = await t.http<Session>('GET', '/v1/me', undefined, key);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: `key:${keyId}`, kind: 'api-key', role, name: `${role} of the console test`, customers, permissions: held(role) });
    expect(res.body.permissions).toContain('session:read');
  });

  it('the admin key of the first start is an admin that sees every customer', async () => {
    const res = await t.http<Session>('GET', '/v1/me');
    expect(res.body).toMatchObject({ kind: 'api-key', role: 'admin', customers: null });
    expect(res.body.permissions).toEqual(Object.keys(PERMISSIONS));
  });

  it('without a credential, or with a revoked one, there is no one to describe: 401', async () => {
    expect(await t.http('GET', '/v1/me', undefined, { authorization: '' })).toMatchObject({ status: 401, body: { code: 'AUTH.MISSING_CREDENTIAL' } });
    const key = await t.keyFor('auditor');
    const keyId = /elk_([0-9a-f]{16})_/.exec(key['authorization']!)![1];
    expect((await t.http('POST', `/v1/api-keys/${keyId}/revoke`, { reason: 'left' })).status).toBe(200);
    expect(await t.http('GET', '/v1/me', undefined, key)).toMatchObject({ status: 401, body: { code: 'AUTH.INVALID_CREDENTIAL' } });
  });

  it('is documented in OpenAPI with its schema', async () => {
    const doc = (await t.http('GET', '/docs/openapi.json', undefined, { authorization: '' })).body;
    const ok = doc.paths['/v1/me'].get.responses['200'].content['application/json'].schema;
    const schema = doc.components.schemas[ok.$ref.split('/').pop()];
    expect(Object.keys(schema.properties).sort()).toEqual(['customers', 'id', 'kind', 'name', 'permissions', 'role']);
    expect(schema.properties.permissions.items.enum).toEqual(Object.keys(PERMISSIONS));
  });
});
