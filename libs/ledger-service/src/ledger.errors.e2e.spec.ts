import { DomainErrorCodes } from '@el/domain';
import { EVENT_STORE, WrongExpectedRevisionError, type EventStore } from '@el/event-store';
import { ExpirySweeper } from './expire-entitlement/expiry-sweeper';
import { INTERNAL_DOMAIN_CODES, LEDGER_ERROR_CODES, ledgerErrorTable, type LedgerHttpCode } from './ledger.errors';
import { startLedgerApp, type HttpResult, type LedgerTestApp } from './testing/ledger-test-app';
import { deliver, invoiceEvent, subscriptionDeletedEvent, TEST_WEBHOOK_SECRET } from './testing/stripe-webhooks';

/**
 * Walks the ledger's error table: every row is produced through the API and
 * answers the status the table gives it. A row no scenario can reach fails
 * this test (and does not compile: `scenarios` is typed by the table's keys).
 */
describe('the ledger error table', () => {
  let t: LedgerTestApp;
  let n = 0;
  beforeAll(async () => (t = await startLedgerApp({ env: { QUERY_WAIT_MS: '50', PAYMENT_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET } })));
  afterAll(() => t.close(true));

  const post = (url: string, body: unknown, headers: Record<string, string> = {}) => t.http('POST', url, body, headers);
  const grant = async (sku = 'ANL-PRO', quantity = 1, extra: Record<string, unknown> = {}) => {
    const res = await post('/v1/entitlements', { customerId: `cust-${++n}`, sku, quantity, ...extra });
    if (res.status !== 201) throw new Error(`grant failed: ${JSON.stringify(res.body)}`);
    return res.body as { entitlementId: string; revision: number; position: number; entitlement: { customerId: string } };
  };
  const on = (id: string, action: string, body: unknown = {}, headers?: Record<string, string>) => post(`/v1/entitlements/${id}/${action}`, body, headers);
  /** An operator's own request: only someone else may decide it. */
  const accessRequest = async (by: Record<string, string>) => (await post('/v1/access-requests', { customerId: `cust-${++n}`, sku: 'ANL-PRO', reason: 'for the table' }, by)).body.requestId as string;

  const scenarios: Record<LedgerHttpCode, () => Promise<HttpResult>> = {
    VALIDATION_FAILED: () => t.http('GET', '/v1/entitlements?cursor=not-a-cursor'),
    'TOKEN.INVALID': () => post('/v1/tokens/refresh', { token: 'eyJhbGciOiJub25lIn0.e30.' }),
    'ACCESS_REQUEST.SELF_APPROVAL': async () => {
      const carol = await t.keyFor('operator', null, 'carol');
      return post(`/v1/access-requests/${await accessRequest(carol)}/approve`, {}, carol);
    },
    'API_KEY.NOT_FOUND': () => post('/v1/api-keys/0123456789abcdef/revoke', { reason: 'no such key' }),
    'API_KEY.ALREADY_REVOKED': async () => {
      const created = await post('/v1/api-keys', { name: 'short-lived', role: 'auditor' });
      await post(`/v1/api-keys/${created.body.keyId}/revoke`, { reason: 'done' });
      return post(`/v1/api-keys/${created.body.keyId}/revoke`, { reason: 'again' });
    },
    'API_KEY.INVALID_SCOPE': () => post('/v1/api-keys', { name: 'portal', role: 'customer-admin' }),
    'API_KEY.LAST_ADMIN': async () => {
      const admins = (await t.http('GET', '/v1/api-keys')).body.items.filter((k: { role: string }) => k.role === 'admin');
      expect(admins).toHaveLength(1);
      return post(`/v1/api-keys/${admins[0].keyId}/revoke`, { reason: 'by mistake' });
    },
    'ENTITLEMENT.NOT_FOUND': () => t.http('GET', '/v1/entitlements/no-such-entitlement'),
    'ACCESS_REQUEST.NOT_FOUND': () => t.http('GET', '/v1/access-requests/no-such-request'),
    'ORDER.NOT_FOUND': () => t.http('GET', '/v1/orders/no-such-order'),
    'CUSTOMER.NOT_FOUND': () => t.http('GET', '/v1/customers/no-such-customer/summary'),
    'CATALOG_VERSION.NOT_FOUND': () => t.http('GET', '/v1/catalog/versions/999'),
    'ENTITLEMENT.ALREADY_REVOKED': async () => {
      const e = await grant();
      await on(e.entitlementId, 'revoke', { reason: 'closed' });
      return on(e.entitlementId, 'revoke', { reason: 'again' });
    },
    'ENTITLEMENT.ALREADY_SUSPENDED': async () => {
      const e = await grant();
      await on(e.entitlementId, 'suspend', { reason: 'unpaid' });
      return on(e.entitlementId, 'suspend', { reason: 'unpaid' });
    },
    'ENTITLEMENT.NOT_SUSPENDED': async () => on((await grant()).entitlementId, 'reinstate'),
    'ENTITLEMENT.EXPIRED': async () => {
      // Designer Pro: one month and seven days of grace, long past.
      const e = await grant('DSG-PRO', 1, { validFrom: '2020-01-01T00:00:00Z' });
      await t.http('GET', `/v1/customers/${e.entitlement.customerId}/entitlements?minPosition=${e.position}`);
      await t.app.get(ExpirySweeper).sweep();
      return on(e.entitlementId, 'suspend', { reason: 'too late' });
    },
    'ENTITLEMENT.PERPETUAL': async () => on((await grant('ANL-FREE')).entitlementId, 'renew'),
    'ENTITLEMENT.CUSTOMER_MISMATCH': async () => {
      const e = await grant();
      return post('/v1/orders', { orderId: `SO-${++n}`, customerId: 'someone-else', lines: [{ lineId: '1', sku: 'ANL-ENT', quantity: 1, action: 'upgrade', entitlementId: e.entitlementId }] });
    },
    'PLAN.SAME_PLAN': async () => on((await grant()).entitlementId, 'change-plan', { sku: 'ANL-PRO' }),
    'PLAN.PRODUCT_MISMATCH': async () => on((await grant()).entitlementId, 'change-plan', { sku: 'DSG-PRO' }),
    'PLAN.NOT_AN_UPGRADE': async () => on((await grant()).entitlementId, 'change-plan', { sku: 'ANL-FREE', direction: 'upgrade' }),
    'PLAN.NOT_A_DOWNGRADE': async () => on((await grant()).entitlementId, 'change-plan', { sku: 'ANL-ENT', direction: 'downgrade' }),
    'ADD_ON.PRODUCT_MISMATCH': async () => on((await grant('DSG-PRO')).entitlementId, 'add-ons', { sku: 'ANL-ADDON-AI' }),
    'ADD_ON.NOT_ATTACHED': async () => t.http('DELETE', `/v1/entitlements/${(await grant()).entitlementId}/add-ons/ANL-ADDON-AI`),
    'SEATS.BELOW_ASSIGNED': async () => {
      const e = await grant('ANL-PRO', 2);
      for (const userId of ['u1', 'u2']) await on(e.entitlementId, 'seat-assignments', { userId });
      return on(e.entitlementId, 'seats', { seats: 1 });
    },
    'SEAT.NONE_AVAILABLE': async () => {
      const e = await grant('ANL-PRO', 1);
      await on(e.entitlementId, 'seat-assignments', { userId: 'u1' });
      return on(e.entitlementId, 'seat-assignments', { userId: 'u2' });
    },
    'SEAT.ALREADY_ASSIGNED': async () => {
      const e = await grant('ANL-PRO', 2);
      await on(e.entitlementId, 'seat-assignments', { userId: 'u1' });
      return on(e.entitlementId, 'seat-assignments', { userId: 'u1' });
    },
    'SEAT.NOT_ASSIGNED': async () => t.http('DELETE', `/v1/entitlements/${(await grant()).entitlementId}/seat-assignments/nobody`),
    'DEVICE.LIMIT_REACHED': async () => {
      const e = await grant('DSG-PRO', 1); // two devices per seat
      for (const deviceId of ['d1', 'd2']) await on(e.entitlementId, 'devices', { deviceId });
      return on(e.entitlementId, 'devices', { deviceId: 'd3' });
    },
    'DEVICE.ALREADY_ACTIVE': async () => {
      const e = await grant('DSG-PRO', 1);
      await on(e.entitlementId, 'devices', { deviceId: 'd1' });
      return on(e.entitlementId, 'devices', { deviceId: 'd1' });
    },
    'DEVICE.NOT_ACTIVE': async () => t.http('DELETE', `/v1/entitlements/${(await grant('DSG-PRO')).entitlementId}/devices/nothing`),
    'DEVICE.ABOVE_LIMIT': async () => {
      const e = await grant('DSG-PRO', 2); // four devices
      for (const deviceId of ['d1', 'd2', 'd3']) await on(e.entitlementId, 'devices', { deviceId });
      return on(e.entitlementId, 'seats', { seats: 1 });
    },
    'ORDER.PAYLOAD_MISMATCH': async () => {
      const order = { orderId: `SO-${++n}`, customerId: `cust-${n}`, lines: [{ lineId: '1', sku: 'ANL-PRO', quantity: 1, action: 'new' }] };
      await post('/v1/orders', order);
      return post('/v1/orders', { ...order, lines: [{ ...order.lines[0], quantity: 2 }] });
    },
    'ACCESS_REQUEST.ALREADY_DECIDED': async () => {
      const id = await accessRequest(await t.keyFor('operator', null, 'dave'));
      await post(`/v1/access-requests/${id}/reject`, { reason: 'no' });
      return post(`/v1/access-requests/${id}/reject`, { reason: 'still no' });
    },
    'CONCURRENCY.CONFLICT': async () => {
      // Another writer wins every race for this entitlement (fault injected into the real store).
      const e = await grant();
      const store = t.app.get<EventStore>(EVENT_STORE);
      const append = store.append;
      store.append = (stream, events, options) => (stream.endsWith(e.entitlementId) ? Promise.reject(new WrongExpectedRevisionError(stream, 0, 1)) : append.call(store, stream, events, options));
      try {
        return await on(e.entitlementId, 'seat-assignments', { userId: 'u1' });
      } finally {
        store.append = append;
      }
    },
    'CONCURRENCY.STALE_REVISION': async () => {
      const e = await grant('ANL-PRO', 2);
      await on(e.entitlementId, 'seat-assignments', { userId: 'u1' });
      return on(e.entitlementId, 'seat-assignments', { userId: 'u2' }, { 'if-match': `"${e.revision}"` });
    },
    'CATALOG.UNKNOWN_SKU': () => post('/v1/entitlements', { customerId: 'acme', sku: 'NOT-A-SKU' }),
    'CATALOG.NOT_A_PLAN': () => post('/v1/entitlements', { customerId: 'acme', sku: 'ANL-ADDON-AI' }),
    'CATALOG.NOT_AN_ADD_ON': async () => on((await grant()).entitlementId, 'add-ons', { sku: 'ANL-ENT' }),
    'ORDER.INVALID_LINE': () => post('/v1/orders', { orderId: `SO-${++n}`, customerId: 'acme', lines: [{ lineId: '1', sku: 'ANL-ENT', quantity: 1, action: 'upgrade' }] }),
    'IDEMPOTENCY.KEY_REUSED': async () => {
      const key = { 'idempotency-key': `key-${++n}` };
      await post('/v1/entitlements', { customerId: 'acme', sku: 'ANL-PRO' }, key);
      return post('/v1/entitlements', { customerId: 'acme', sku: 'ANL-ENT' }, key);
    },
    'READ_MODEL.BEHIND': async () => t.http('GET', `/v1/customers/acme/entitlements?minPosition=${(await t.head()) + 1000}`),
    'WEBHOOK.NOT_CONFIGURED': async () => {
      // An installation without a signing secret.
      const bare = await startLedgerApp();
      try {
        return await deliver(bare, invoiceEvent(bare, 'invoice.payment_failed'));
      } finally {
        await bare.close(true);
      }
    },
    'WEBHOOK.BAD_SIGNATURE': () => deliver(t, invoiceEvent(t, 'invoice.payment_failed'), { secret: 'whsec_not_this_endpoints' }),
    'WEBHOOK.TIMESTAMP_OUT_OF_TOLERANCE': () => deliver(t, invoiceEvent(t, 'invoice.payment_failed'), { signedAt: Math.floor(t.clock.now().getTime() / 1000) - 301 }),
    'WEBHOOK.UNSUPPORTED_EVENT': () => deliver(t, { ...invoiceEvent(t, 'invoice.paid'), type: 'invoice.finalized' }),
    'WEBHOOK.NO_CUSTOMER': () => deliver(t, invoiceEvent(t, 'invoice.payment_failed', { mapping: 'none' })),
    'WEBHOOK.NO_ENTITLEMENT': () => deliver(t, subscriptionDeletedEvent(t, { plan_sku: 'ANL-PRO' })),
  };

  it('has one scenario per row, and every domain code is a row or known to be internal', () => {
    expect(Object.keys(scenarios).sort()).toEqual(Object.keys(ledgerErrorTable).sort());
    const classified = new Set([...Object.keys(ledgerErrorTable), ...Object.keys(INTERNAL_DOMAIN_CODES)]);
    expect(DomainErrorCodes.filter((c) => !classified.has(c))).toEqual([]);
    expect(LEDGER_ERROR_CODES.filter((c) => !(c in ledgerErrorTable))).toEqual([]);
    // A code is either answered to callers or internal, never both.
    expect(Object.keys(INTERNAL_DOMAIN_CODES).filter((c) => c in ledgerErrorTable)).toEqual([]);
  });

  it.each(Object.entries(ledgerErrorTable))('%s answers %i', async (code, status) => {
    const res = await scenarios[code as LedgerHttpCode]();
    expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
    expect(typeof res.body.message).toBe('string');
  });
});
