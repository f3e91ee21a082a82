import { parseErpOrderV1 } from '@el/contracts';
import { startLedgerApp, type LedgerTestApp } from '../testing/ledger-test-app';

/** POST /v1/orders and erp.orders.v1 are one schema in two places: they must accept and refuse the same orders. */
describe('order schemas: REST and erp.orders.v1 agree', () => {
  let t: LedgerTestApp;
  beforeAll(async () => (t = await startLedgerApp()));
  afterAll(() => t.close(true));

  const line = { lineId: '1', sku: 'ANL-PRO', quantity: 1, action: 'new' };
  const cases: [string, unknown][] = [
    ['a minimal order', { orderId: 'P-1', customerId: 'c', lines: [line] }],
    ['with effectiveAt and an entitlementId', { orderId: 'P-2', customerId: 'c', effectiveAt: '2026-01-01T00:00:00Z', lines: [{ ...line, action: 'renew', entitlementId: 'e-1' }] }],
    ['no lines', { orderId: 'P-3', customerId: 'c', lines: [] }],
    ['an unknown field', { orderId: 'P-4', customerId: 'c', lines: [line], priority: 'high' }],
    ['an unknown line field', { orderId: 'P-5', customerId: 'c', lines: [{ ...line, discount: 5 }] }],
    ['a bad orderId', { orderId: 'P 6', customerId: 'c', lines: [line] }],
    ['a fractional quantity', { orderId: 'P-7', customerId: 'c', lines: [{ ...line, quantity: 1.5 }] }],
    ['a zero quantity', { orderId: 'P-8', customerId: 'c', lines: [{ ...line, quantity: 0 }] }],
    ['an unknown action', { orderId: 'P-9', customerId: 'c', lines: [{ ...line, action: 'gift' }] }],
    ['a date that is not an instant', { orderId: 'P-10', customerId: 'c', effectiveAt: 'tomorrow', lines: [line] }],
    ['a missing customer', { orderId: 'P-11', lines: [line] }],
    ['a list instead of an object', [line]],
  ];

  it.each(cases)('%s', async (_name, body) => {
    const rest = await t.http('POST', '/v1/orders', body);
    const kafka = parseErpOrderV1(JSON.stringify(body));
    expect({ restValid: rest.status !== 400, kafkaValid: kafka.ok }).toEqual({ restValid: kafka.ok, kafkaValid: kafka.ok });
    if (!kafka.ok && rest.status === 400 && rest.body.errors) {
      // Both name the same fields.
      const restPaths = new Set(rest.body.errors.map((e: { path: string }) => e.path));
      for (const e of kafka.errors) if (e.path) expect(restPaths).toContain(e.path);
    }
  });
});
