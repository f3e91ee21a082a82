import { decideCreateApiKey, decideRevokeApiKey, evolveApiKeys, type ApiKeyCreated, type ApiKeyRecord, type CreateApiKey } from './api-key';
import { DomainError } from '../shared/errors';

const meta = { now: '2026-12-01T00:00:00.000Z', correlationId: 'c', causationId: 'c', actor: { type: 'operator' as const, id: 'key:admin' }, source: 'api' as const };
const create = (over: Partial<CreateApiKey['data']> = {}): CreateApiKey => ({
  type: 'CreateApiKey',
  data: { keyId: 'k1', name: 'billing', role: 'operator', customers: null, secretSha256: 'ab'.repeat(32), createdAt: meta.now, ...over },
  metadata: meta,
});
const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return (e as DomainError).code;
  }
  return undefined;
};

describe('API keys', () => {
  it('given no keys, when a key is created, then it is recorded with who created it', () => {
    const events = decideCreateApiKey(create(), new Map());
    expect(events.map((e) => e.type)).toEqual(['ApiKeyCreated']);
    const keys = evolveApiKeys(new Map(), events[0]!);
    expect(keys.get('k1')).toMatchObject({ role: 'operator', createdBy: 'key:admin', revokedAt: null });
  });

  it('refuses a customer role without exactly one customer, and customers on an all-customer role', () => {
    expect(codeOf(() => decideCreateApiKey(create({ role: 'customer-admin' }), new Map()))).toBe('API_KEY.INVALID_SCOPE');
    expect(codeOf(() => decideCreateApiKey(create({ role: 'customer-user', customers: ['a', 'b'] }), new Map()))).toBe('API_KEY.INVALID_SCOPE');
    expect(codeOf(() => decideCreateApiKey(create({ role: 'operator', customers: ['a'] }), new Map()))).toBe('API_KEY.INVALID_SCOPE');
    expect(decideCreateApiKey(create({ role: 'service', customers: ['a', 'b'] }), new Map())).toHaveLength(1);
  });

  it('refuses to revoke the last admin key', () => {
    const keys = evolveApiKeys(new Map<string, ApiKeyRecord>(), decideCreateApiKey(create({ role: 'admin' }), new Map())[0] as ApiKeyCreated);
    expect(codeOf(() => decideRevokeApiKey({ type: 'RevokeApiKey', data: { keyId: 'k1', reason: 'oops' }, metadata: meta }, keys))).toBe('API_KEY.LAST_ADMIN');
    evolveApiKeys(keys, decideCreateApiKey(create({ keyId: 'k2', role: 'admin' }), keys)[0]!);
    expect(decideRevokeApiKey({ type: 'RevokeApiKey', data: { keyId: 'k1', reason: 'rotated' }, metadata: meta }, keys)).toHaveLength(1);
  });

  it('revokes once; a second revocation and an unknown key are refused', () => {
    const keys = evolveApiKeys(new Map<string, ApiKeyRecord>(), decideCreateApiKey(create(), new Map())[0] as ApiKeyCreated);
    expect(codeOf(() => decideCreateApiKey(create(), keys))).toBe('API_KEY.ALREADY_EXISTS');
    const revoked = decideRevokeApiKey({ type: 'RevokeApiKey', data: { keyId: 'k1', reason: 'leaked' }, metadata: meta }, keys);
    evolveApiKeys(keys, revoked[0]!);
    expect(keys.get('k1')).toMatchObject({ revokedAt: meta.now, revokeReason: 'leaked', revokedBy: 'key:admin' });
    expect(codeOf(() => decideRevokeApiKey({ type: 'RevokeApiKey', data: { keyId: 'k1', reason: 'x' }, metadata: meta }, keys))).toBe('API_KEY.ALREADY_REVOKED');
    expect(codeOf(() => decideRevokeApiKey({ type: 'RevokeApiKey', data: { keyId: 'nope', reason: 'x' }, metadata: meta }, keys))).toBe('API_KEY.NOT_FOUND');
  });
});
