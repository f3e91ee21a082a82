import fc from 'fast-check';
import { expectEqual, propertyParams } from '@el/testing';
import { meta } from '../__fixtures__/fixtures';
import { DomainError, type DomainErrorCode } from '../shared/errors';
import { API_KEY_ROLES, decideCreateApiKey, decideRevokeApiKey, evolveApiKeys, type ApiKeyRecord, type ApiKeyRole } from './api-key';

/**
 * Model-based test of the API keys stream: random creations and revocations
 * against a reference model. Whatever happens, the installation keeps an
 * admin key once it had one, a revoked key stays revoked, and every key's
 * scope fits its role. Seeds: libs/testing/src/property.ts.
 */

const m = meta();
const KEY_IDS = ['k1', 'k2', 'k3', 'k4'];
const CUSTOMER_ROLES: readonly ApiKeyRole[] = ['customer-admin', 'customer-user'];

type Action =
  | { readonly do: 'create'; readonly keyId: string; readonly role: ApiKeyRole; readonly customers: readonly string[] | null }
  | { readonly do: 'revoke'; readonly keyId: string };

type Model = ReadonlyMap<string, { readonly role: ApiKeyRole; readonly revoked: boolean }>;

function brokenRules(model: Model, a: Action): DomainErrorCode[] {
  if (a.do === 'create') {
    if (model.has(a.keyId)) return ['API_KEY.ALREADY_EXISTS'];
    const broken: DomainErrorCode[] = [];
    const customerRole = CUSTOMER_ROLES.includes(a.role);
    if (customerRole && a.customers?.length !== 1) broken.push('API_KEY.INVALID_SCOPE');
    if (!customerRole && a.role !== 'service' && a.customers !== null) broken.push('API_KEY.INVALID_SCOPE');
    if (a.customers !== null && a.customers.length === 0) broken.push('API_KEY.INVALID_SCOPE');
    return broken;
  }
  const key = model.get(a.keyId);
  if (!key) return ['API_KEY.NOT_FOUND'];
  if (key.revoked) return ['API_KEY.ALREADY_REVOKED'];
  const otherAdmins = [...model.entries()].filter(([id, k]) => id !== a.keyId && k.role === 'admin' && !k.revoked);
  return key.role === 'admin' && otherAdmins.length === 0 ? ['API_KEY.LAST_ADMIN'] : [];
}

function run(actions: readonly Action[]): void {
  let model: Model = new Map();
  const keys = new Map<string, ApiKeyRecord>();
  let hadAdmin = false;
  for (const [i, a] of actions.entries()) {
    const where = () => `step ${i} ${JSON.stringify(a)}\nmodel: ${JSON.stringify([...model])}`;
    const broken = brokenRules(model, a);
    let outcome: string;
    try {
      const events =
        a.do === 'create'
          ? decideCreateApiKey({ type: 'CreateApiKey', data: { keyId: a.keyId, name: a.keyId, role: a.role, customers: a.customers, secretSha256: 'x', createdAt: m.now }, metadata: m }, keys)
          : decideRevokeApiKey({ type: 'RevokeApiKey', data: { keyId: a.keyId, reason: 'model' }, metadata: m }, keys);
      for (const e of events) evolveApiKeys(keys, e);
      outcome = JSON.stringify(events.map((e) => e.type));
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      outcome = broken.includes(err.code) ? 'refused for a rule it breaks' : err.code;
    }
    expectEqual(outcome, broken.length > 0 ? 'refused for a rule it breaks' : a.do === 'create' ? '["ApiKeyCreated"]' : '["ApiKeyRevoked"]', where);
    if (broken.length === 0) {
      const next = new Map(model);
      next.set(a.keyId, a.do === 'create' ? { role: a.role, revoked: false } : { ...model.get(a.keyId)!, revoked: true });
      model = next;
    }
    // On the decider's own records, whatever the model says.
    const records = [...keys.values()];
    hadAdmin ||= records.some((k) => k.role === 'admin');
    expectEqual(
      {
        anAdminLeft: !hadAdmin || records.some((k) => k.role === 'admin' && k.revokedAt === null),
        scopesFitRoles: records.every((k) => (CUSTOMER_ROLES.includes(k.role) ? k.customers?.length === 1 : k.role === 'service' ? k.customers === null || k.customers.length > 0 : k.customers === null)),
        keys: records.map((k) => [k.keyId, k.role, k.revokedAt !== null]),
      },
      { anAdminLeft: true, scopesFitRoles: true, keys: [...model].map(([id, k]) => [id, k.role, k.revoked]) },
      where,
    );
  }
}

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({
    do: fc.constant('create' as const),
    keyId: fc.constantFrom(...KEY_IDS),
    // Admins often, so that the last-admin rule is exercised.
    role: fc.oneof(fc.constant<ApiKeyRole>('admin'), fc.constantFrom(...API_KEY_ROLES)),
    customers: fc.oneof(fc.constant(null), fc.array(fc.constantFrom('acme', 'globex'), { maxLength: 2 })),
  }),
  fc.record({ do: fc.constant('revoke' as const), keyId: fc.constantFrom(...KEY_IDS) }),
);

describe('API keys against a reference model (fast-check)', () => {
  it('keep an admin key once there was one, never un-revoke, and fit every scope to its role', () => {
    fc.assert(fc.property(fc.array(action, { maxLength: 20, size: 'max' }), run), propertyParams(300));
  });
});
