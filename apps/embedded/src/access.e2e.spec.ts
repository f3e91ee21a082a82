import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PERMISSIONS, ROLES, type AccessDeclaration, type Permission, type Role } from '@el/platform';
import { startEmbeddedApp, type EmbeddedApp } from './testing/embedded-app';

/**
 * The access table: every route the service answers, with what it needs.
 * A route added without a declaration, or declared differently from this
 * table, fails here; the guard refuses an undeclared route at run time too.
 */
type Expected = Permission | 'public' | 'signed';
const ROUTES: Record<string, Expected> = {
  'GET /health': 'public',
  'GET /health/live': 'public',
  'GET /.well-known/jwks.json': 'public',
  'GET /console': 'public',
  'GET /console/*': 'public',
  'GET /metrics': 'metrics:read',
  'GET /v1/me': 'session:read',
  'POST /v1/orders': 'orders:place',
  'GET /v1/orders/:orderId': 'orders:read',
  'POST /v1/entitlements': 'entitlements:grant',
  'POST /v1/entitlements/:id/change-plan': 'entitlements:manage',
  'POST /v1/entitlements/:id/add-ons': 'entitlements:manage',
  'DELETE /v1/entitlements/:id/add-ons/:sku': 'entitlements:manage',
  'POST /v1/entitlements/:id/seats': 'entitlements:manage',
  'POST /v1/entitlements/:id/renew': 'entitlements:manage',
  'POST /v1/entitlements/:id/suspend': 'entitlements:manage',
  'POST /v1/entitlements/:id/reinstate': 'entitlements:manage',
  'POST /v1/entitlements/:id/revoke': 'entitlements:manage',
  'POST /v1/entitlements/:id/seat-assignments': 'seats:manage',
  'DELETE /v1/entitlements/:id/seat-assignments/:userId': 'seats:manage',
  'POST /v1/entitlements/:id/devices': 'devices:manage',
  'DELETE /v1/entitlements/:id/devices/:deviceId': 'devices:manage',
  'GET /v1/entitlements/:id': 'entitlements:read',
  'GET /v1/entitlements': 'entitlements:read',
  'GET /v1/customers/:customerId/entitlements': 'entitlements:read',
  'GET /v1/entitlements/:id/seat-assignments': 'entitlements:read',
  'GET /v1/customers/:customerId/summary': 'entitlements:read',
  'GET /v1/customers': 'entitlements:read',
  'POST /v1/access-requests': 'access-requests:create',
  'GET /v1/access-requests': 'access-requests:read',
  'GET /v1/access-requests/:id': 'access-requests:read',
  'POST /v1/access-requests/:id/approve': 'access-requests:decide',
  'POST /v1/access-requests/:id/reject': 'access-requests:decide',
  'POST /v1/tokens': 'tokens:issue',
  'POST /v1/tokens/refresh': 'tokens:issue',
  'GET /v1/catalog': 'catalog:read',
  'GET /v1/catalog/versions/:version': 'catalog:read',
  'POST /v1/api-keys': 'api-keys:manage',
  'GET /v1/api-keys': 'api-keys:read',
  'POST /v1/api-keys/:keyId/revoke': 'api-keys:manage',
  // Authenticated by the payment gateway's signature over the body (see "Payment-gateway webhooks").
  'POST /v1/webhooks/payments': 'signed',
  'GET /v1/view/customers/:customerId/entitlements': 'view:read',
  'GET /v1/view/users/:userId/entitlements': 'view:read',
  'GET /v1/view/devices/:deviceId/entitlements': 'view:read',
  'GET /v1/view/entitlements/:id': 'view:read',
  'POST /v1/usage': 'usage:report',
  'GET /v1/customers/:customerId/usage': 'usage:read',
  'GET /v1/customers/:customerId/usage/series': 'usage:read',
  'GET /v1/customers/:customerId/alerts': 'usage:read',
  'GET /v1/usage/near-cap': 'usage:read',
  'POST /v1/usage/corrections': 'usage:correct',
  'GET /v1/usage/export': 'usage:export',
  'GET /v1/audit/tree-heads/latest': 'audit:read',
  'GET /v1/audit/tree-heads': 'audit:read',
  'GET /v1/audit/proofs/inclusion': 'audit:read',
  'GET /v1/audit/proofs/consistency': 'audit:read',
  'GET /v1/audit/history': 'audit:read',
  'GET /v1/audit/export': 'audit:export',
  'GET /v1/audit/decisions': 'audit:read',
  'POST /v1/audit/decisions/replay': 'audit:read',
  'POST /v1/audit/verifications': 'audit:read',
  'GET /v1/audit/verifications/latest': 'audit:read',
  // Raw Fastify routes: authenticated in an onRequest hook (jsonRoute's `access`).
  'POST /v1/check': 'checks:run',
  'POST /v1/check/batch': 'checks:run',
};
const RAW_ROUTES = ['POST /v1/check', 'POST /v1/check/batch'];

const expectedOf = (d: AccessDeclaration | null): Expected | null => (d === null ? null : d.kind === 'permission' ? d.permission : d.kind);
const urlOf = (route: string) => route.split(' ')[1]!.replace(/:(\w+)/g, (_m, name: string) => (name === 'version' ? '1' : `x-${name.toLowerCase()}`));
const bodyOf = (route: string): unknown => (route.startsWith('POST') ? {} : undefined);

/** The README's permission table, from PERMISSIONS and the routes above. */
function permissionMatrix(): string {
  const lines = [`| permission | routes | ${ROLES.join(' | ')} |`, `|---|---|${ROLES.map(() => ':-:').join('|')}|`];
  for (const [permission, roles] of Object.entries(PERMISSIONS) as [Permission, readonly Role[]][]) {
    const routes = Object.entries(ROUTES).filter(([, p]) => p === permission).map(([r]) => `\`${r}\``);
    lines.push(`| \`${permission}\` | ${routes.join('<br>')} | ${ROLES.map((r) => (roles.includes(r) ? '✓' : '')).join(' | ')} |`);
  }
  return lines.join('\n');
}

describe('access: every route × every role', () => {
  let t: EmbeddedApp;
  const keys = {} as Record<Role, Record<string, string>>;

  beforeAll(async () => {
    t = await startEmbeddedApp();
    for (const role of ROLES) keys[role] = await t.keyFor(role, role === 'customer-admin' || role === 'customer-user' ? ['acme'] : null);
  });
  afterAll(() => t.close());

  it('knows every route, and every route declares what it needs as the table says', () => {
    const nest = t.nestRoutes();
    const declared = Object.fromEntries([...nest.map((r) => [`${r.method} ${r.path}`, expectedOf(r.access)] as const), ...RAW_ROUTES.map((r) => [r, ROUTES[r]!] as const)]);
    expect(declared).toEqual(ROUTES);
    // Fastify serves nothing else (but the API docs).
    const served = t.fastifyRoutes.filter((r) => !r.includes(' /docs')).map((r) => r.replace(/\/$/, ''));
    expect([...new Set(served)].sort()).toEqual(Object.keys(ROUTES).sort());
  });

  it.each(Object.keys(ROUTES).filter((r) => ROUTES[r] !== 'public' && ROUTES[r] !== 'signed' && ROUTES[r] !== 'metrics:read'))('%s: 401 without a credential, with a malformed or an unknown one', async (route) => {
    const [method] = route.split(' ');
    for (const authorization of ['', 'Basic dXNlcjpwYXNz', 'Bearer elk_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'Bearer not-a-key']) {
      const res = await t.http(method!, urlOf(route), bodyOf(route), { authorization });
      expect({ route, authorization, status: res.status, code: res.body?.code }).toEqual({
        route,
        authorization,
        status: 401,
        code: authorization === '' ? 'AUTH.MISSING_CREDENTIAL' : 'AUTH.INVALID_CREDENTIAL',
      });
    }
  });

  it.each(ROLES)('role %s: allowed exactly where the permission table says, 403 everywhere else', async (role) => {
    const outcomes: Record<string, string> = {};
    const expected: Record<string, string> = {};
    for (const route of Object.keys(ROUTES)) {
      const [method] = route.split(' ');
      const needs = ROUTES[route]!;
      const res = await t.http(method!, urlOf(route), bodyOf(route), keys[role]);
      const allowed = needs === 'public' || needs === 'signed' || needs === 'metrics:read' || (PERMISSIONS[needs as Permission] as readonly Role[]).includes(role);
      expected[route] = allowed ? 'allowed' : 'AUTH.FORBIDDEN';
      // Allowed: past the credential and the permission (the request itself may be invalid, or name nothing).
      outcomes[route] = res.status === 401 || res.status === 403 ? (res.body?.code ?? String(res.status)) : 'allowed';
    }
    expect(outcomes).toEqual(expected);
  });

  it('a revoked key is refused at once in this process', async () => {
    const key = await t.keyFor('auditor');
    expect((await t.http('GET', '/v1/catalog', undefined, key)).status).toBe(200);
    const keyId = /elk_([0-9a-f]{16})_/.exec(key['authorization']!)![1];
    expect((await t.http('POST', `/v1/api-keys/${keyId}/revoke`, { reason: 'rotated' })).status).toBe(200);
    const after = await t.http('GET', '/v1/catalog', undefined, key);
    expect(after).toMatchObject({ status: 401, body: { code: 'AUTH.INVALID_CREDENTIAL', message: expect.stringContaining('revoked') } });
  });

  it('the README prints this permission table', () => {
    const path = join(__dirname, '..', '..', '..', 'README.md');
    const markers = /(<!-- permission-matrix:start -->\n)[\s\S]*?(\n<!-- permission-matrix:end -->)/;
    // On a mismatch, run this spec with UPDATE_PERMISSION_MATRIX=1 to rewrite the table between the markers (then review the diff).
    if (process.env['UPDATE_PERMISSION_MATRIX'] === '1') writeFileSync(path, readFileSync(path, 'utf8').replace(markers, (_, start: string, end: string) => `${start}${permissionMatrix()}${end}`));
    const section = /<!-- permission-matrix:start -->\n([\s\S]*?)\n<!-- permission-matrix:end -->/.exec(readFileSync(path, 'utf8'))?.[1];
    expect(section).toBe(permissionMatrix());
  });
});
