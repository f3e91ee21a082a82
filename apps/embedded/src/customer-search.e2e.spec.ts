import type { CustomerListPage } from '@el/ledger-service';
import { startEmbeddedApp, type EmbeddedApp } from './testing/embedded-app';

/** The console's customer picker: GET /v1/customers?search= over the embedded process's read models. */
describe('GET /v1/customers: customers by id prefix', () => {
  let t: EmbeddedApp;
  beforeAll(async () => (t = await startEmbeddedApp()));
  afterAll(() => t.close());

  it('finds what an order just granted (minPosition), counted by status, and an operator sees every customer', async () => {
    const placed = await t.http('POST', '/v1/orders', { orderId: 'SO-1', customerId: 'acme', lines: [{ lineId: '10', sku: 'ANL-PRO', quantity: 5, action: 'new' }, { lineId: '20', sku: 'DSG-PRO', quantity: 2, action: 'new' }] });
    expect(placed.status).toBe(201);
    const other = await t.http('POST', '/v1/orders', { orderId: 'SO-2', customerId: 'acme-labs', lines: [{ lineId: '10', sku: 'VLT-PRO', quantity: 1, action: 'new' }] });
    const suspended = await t.http('POST', `/v1/entitlements/${other.body.lines[0].entitlementId}/suspend`, { reason: 'unpaid' });
    expect(suspended.status).toBe(200);
    const operator = await t.keyFor('operator');
    const res = await t.http<CustomerListPage>('GET', `/v1/customers?search=acme&minPosition=${suspended.body.position}`, undefined, operator);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      position: expect.any(Number),
      items: [
        { customerId: 'acme', entitlements: 2, active: 2, suspended: 0, expired: 0, revoked: 0, seats: 7, seatsAssigned: 0, products: ['analytics', 'designer'], lastPosition: expect.any(Number) },
        { customerId: 'acme-labs', entitlements: 1, active: 0, suspended: 1, expired: 0, revoked: 0, seats: 1, seatsAssigned: 0, products: ['vault'], lastPosition: suspended.body.position },
      ],
      nextCursor: null,
    });
    expect(res.body.position).toBeGreaterThanOrEqual(suspended.body.position);
    expect((await t.http('GET', '/v1/customers?search=acme-', undefined, operator)).body.items.map((c: { customerId: string }) => c.customerId)).toEqual(['acme-labs']);
  });

  it('is documented in OpenAPI with its parameters and response schema', async () => {
    const doc = (await t.http('GET', '/docs/openapi.json', undefined, { authorization: '' })).body;
    const op = doc.paths['/v1/customers'].get;
    expect(op.parameters.filter((p: { in: string }) => p.in === 'query').map((p: { name: string }) => p.name).sort()).toEqual(['cursor', 'limit', 'minPosition', 'search']);
    expect(op.parameters.find((p: { name: string }) => p.name === 'search').schema).toMatchObject({ maxLength: 128 });
    const page = doc.components.schemas[op.responses['200'].content['application/json'].schema.$ref.split('/').pop()];
    expect(Object.keys(page.properties).sort()).toEqual(['items', 'nextCursor', 'position']);
    const item = doc.components.schemas[page.properties.items.items.$ref.split('/').pop()];
    expect(Object.keys(item.properties).sort()).toEqual(['active', 'customerId', 'entitlements', 'expired', 'lastPosition', 'products', 'revoked', 'seats', 'seatsAssigned', 'suspended']);
  });
});
