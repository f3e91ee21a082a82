import { until } from '@el/testing';
import { startLedgerApp, type LedgerTestApp } from '../testing/ledger-test-app';

describe('API keys: created, listed and revoked through the API, as events in the ledger', () => {
  let t: LedgerTestApp;
  beforeEach(async () => (t = await startLedgerApp({ env: { API_KEY_REFRESH_MS: '200' } })));
  afterEach(() => t.close(true));

  it('shows a key once, records who made it with which role and scope, and never stores the secret', async () => {
    const before = await t.head();
    const created = await t.http('POST', '/v1/api-keys', { name: 'acme portal', role: 'customer-admin', customerId: 'acme' });
    expect(created.status).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    expect(created.body).toMatchObject({ key: expect.stringMatching(/^elk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/), role: 'customer-admin', customers: ['acme'], createdBy: expect.stringMatching(/^key:/) });
    const { key, keyId } = created.body;
    const events = await t.eventsAfter(before);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ stream: 'api-keys', type: 'ApiKeyCreated', data: { keyId, role: 'customer-admin', customers: ['acme'], name: 'acme portal' }, metadata: { actor: { id: expect.stringMatching(/^key:/) } } });
    expect(JSON.stringify(events)).not.toContain(key.slice(`elk_${keyId}_`.length));
    // Listed without secret or hash; the key works at once, as the role it was given.
    const listed = await t.http('GET', '/v1/api-keys');
    expect(listed.body.items.find((k: { keyId: string }) => k.keyId === keyId)).toEqual({ keyId, name: 'acme portal', role: 'customer-admin', customers: ['acme'], createdAt: expect.any(String), createdBy: expect.any(String), revokedAt: null, revokedBy: null, revokeReason: null });
    expect(JSON.stringify(listed.body)).not.toMatch(/secret|elk_/);
    expect((await t.http('GET', '/v1/customers/acme/entitlements', undefined, { authorization: `Bearer ${key}` })).status).toBe(200);
    expect((await t.http('GET', '/v1/api-keys', undefined, { authorization: `Bearer ${key}` })).body.code).toBe('AUTH.FORBIDDEN');
  });

  it('refuses keys that would not be scoped, and names the bad field', async () => {
    expect((await t.http('POST', '/v1/api-keys', { name: 'x', role: 'customer-user' })).body.code).toBe('API_KEY.INVALID_SCOPE');
    expect((await t.http('POST', '/v1/api-keys', { name: 'x', role: 'operator', customerId: 'acme' })).body.code).toBe('API_KEY.INVALID_SCOPE');
    expect((await t.http('POST', '/v1/api-keys', { name: 'x', role: 'root' })).body.errors[0].path).toBe('role');
    expect((await t.http('POST', '/v1/api-keys', { name: 'x', role: 'service', customers: [] })).body.errors[0].path).toBe('customers');
    const service = await t.http('POST', '/v1/api-keys', { name: 'app', role: 'service', customers: ['acme', 'globex'] });
    expect(service.body.customers).toEqual(['acme', 'globex']);
  });

  it('a revocation recorded by one process is refused by another sharing the store within API_KEY_REFRESH_MS', async () => {
    const other = await startLedgerApp({ dataDir: t.dataDir, env: { API_KEY_REFRESH_MS: '200' } });
    try {
      const created = await t.http('POST', '/v1/api-keys', { name: 'ci', role: 'auditor' });
      const auth = { authorization: `Bearer ${created.body.key}` };
      // A key made a moment ago elsewhere: an unknown key makes the other process reread the log.
      expect((await other.http('GET', '/v1/catalog', undefined, auth)).status).toBe(200);
      const revoked = await t.http('POST', `/v1/api-keys/${created.body.keyId}/revoke`, { reason: 'left the team' });
      expect(revoked.body).toMatchObject({ revokedAt: expect.any(String), revokeReason: 'left the team', revokedBy: expect.stringMatching(/^key:/) });
      expect((await t.http('GET', '/v1/catalog', undefined, auth)).status).toBe(401);
      // The other process rereads every 200 ms: refused well within a second.
      await until('the other process to refuse the revoked key', async () => (await other.http('GET', '/v1/catalog', undefined, auth)).status === 401, { timeoutMs: 1000, intervalMs: 20 });
      const events = await t.eventsAfter(0);
      expect(events.filter((e) => e.stream === 'api-keys').map((e) => e.type)).toEqual(['ApiKeyCreated', 'ApiKeyCreated', 'ApiKeyRevoked']);
    } finally {
      await other.close();
    }
  });

  it('the first start wrote the admin key to DATA_DIR/admin-api-key, readable by its owner only', async () => {
    const { statSync, readFileSync } = await import('node:fs');
    const file = `${t.dataDir}/admin-api-key`;
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/^elk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}\n$/);
    // A second start finds keys in the log and writes nothing.
    const first = readFileSync(file, 'utf8');
    await t.close();
    t = await startLedgerApp({ dataDir: t.dataDir });
    expect(readFileSync(file, 'utf8')).toBe(first);
    expect((await t.http('GET', '/v1/api-keys')).body.items.filter((k: { role: string }) => k.role === 'admin')).toHaveLength(1);
  });
});
