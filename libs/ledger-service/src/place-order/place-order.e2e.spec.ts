import { renameSync, rmSync } from 'node:fs';
import { foldOrder, orderStream, type OrderEvent } from '@el/domain';
import { SqliteEventStore } from '@el/event-store';
import { OrderRecovery } from './order-recovery';
import { entitlementIdForLine } from './order-process';
import { principalIdOf, startLedgerApp, type LedgerTestApp } from '../testing/ledger-test-app';

/** The ERP's credential (an erp key, made in beforeEach) with its source and correlation. */
let erp: Record<string, string>;
const order = (over: Record<string, unknown> = {}) => ({
  orderId: 'SO-1',
  customerId: 'acme',
  effectiveAt: '2026-11-01T00:00:00Z',
  lines: [
    { lineId: '10', sku: 'ANL-PRO', quantity: 5, action: 'new' },
    { lineId: '20', sku: 'DSG-PRO', quantity: 2, action: 'new' },
  ],
  ...over,
});

describe('POST /v1/orders', () => {
  let t: LedgerTestApp;
  beforeEach(async () => {
    t = await startLedgerApp();
    erp = { ...(await t.keyFor('erp', null, 'sap-prod')), 'x-source': 'erp', 'x-correlation-id': 'corr-order-1' };
  });
  afterEach(() => t.close(true));

  it('fulfils a new order: order and entitlement events with the envelope of the request', async () => {
    const before = await t.head();
    const res = await t.http('POST', '/v1/orders', order(), erp);
    expect(res.status).toBe(201);
    const ent10 = entitlementIdForLine('SO-1', '10');
    expect(res.body).toMatchObject({
      orderId: 'SO-1',
      status: 'fulfilled',
      partial: false,
      replayed: false,
      lines: [
        { lineId: '10', entitlementId: ent10, status: 'fulfilled', events: ['EntitlementGranted'] },
        { lineId: '20', entitlementId: entitlementIdForLine('SO-1', '20'), status: 'fulfilled', events: ['EntitlementGranted'] },
      ],
    });
    const events = await t.eventsAfter(before);
    expect(events.map((e) => [e.stream, e.type])).toEqual([
      ['order-SO-1', 'OrderReceived'],
      [`entitlement-${ent10}`, 'EntitlementGranted'],
      [`entitlement-${entitlementIdForLine('SO-1', '20')}`, 'EntitlementGranted'],
      ['order-SO-1', 'OrderFulfilled'],
    ]);
    expect(res.body.position).toBe(events[3]!.position);
    for (const e of events) {
      expect(e.metadata).toMatchObject({ correlationId: 'corr-order-1', actor: { type: 'erp', id: principalIdOf(erp) }, source: 'erp', schemaVersion: 1 });
      expect(typeof e.metadata['recordedAt']).toBe('string');
    }
    // The grants take effect when the order does, and name the order's receipt as their cause.
    expect(events[1]!.metadata).toMatchObject({ effectiveAt: '2026-11-01T00:00:00.000Z', causationId: events[0]!.id });
    expect(events[1]!.data).toMatchObject({ customerId: 'acme', planId: 'pro', seats: 5, validUntil: '2027-11-01T00:00:00.000Z', origin: { kind: 'order', orderId: 'SO-1', lineId: '10' } });
  });

  it('answers a resubmitted order with the original outcome and writes nothing', async () => {
    const first = await t.http('POST', '/v1/orders', order(), erp);
    const head = await t.head();
    const again = await t.http('POST', '/v1/orders', { ...order(), lines: [...order().lines] }, erp);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ ...first.body, replayed: true });
    expect(await t.head()).toBe(head);
  });

  it('applies concurrent deliveries of the same order once', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => t.http('POST', '/v1/orders', order(), erp)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201].sort());
    const grants = (await t.eventsAfter(0)).filter((e) => e.type === 'EntitlementGranted');
    expect(grants).toHaveLength(2);
  });

  it('holds an Idempotency-Key to its first order', async () => {
    const h = { ...erp, 'idempotency-key': 'erp-msg-77' };
    expect((await t.http('POST', '/v1/orders', order(), h)).status).toBe(201);
    expect((await t.http('POST', '/v1/orders', order(), h)).status).toBe(200);
    const head = await t.head();
    const other = await t.http('POST', '/v1/orders', order({ orderId: 'SO-2' }), h);
    expect(other).toMatchObject({ status: 422, body: { code: 'IDEMPOTENCY.KEY_REUSED', details: { resource: 'order:SO-1' } } });
    expect(await t.head()).toBe(head);
  });

  it('refuses the same orderId with a different payload, writing nothing', async () => {
    await t.http('POST', '/v1/orders', order(), erp);
    const head = await t.head();
    const res = await t.http('POST', '/v1/orders', order({ lines: [{ lineId: '10', sku: 'ANL-PRO', quantity: 6, action: 'new' }] }), erp);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'ORDER.PAYLOAD_MISMATCH', details: { orderId: 'SO-1' } });
    expect(await t.head()).toBe(head);
  });

  it('answers 400 with field paths for a malformed order, writing nothing', async () => {
    const head = await t.head();
    const res = await t.http('POST', '/v1/orders', { orderId: 'SO 2', customerId: 'acme', lines: [{ lineId: '1', sku: 'ANL-PRO', quantity: 0, action: 'buy' }], extra: 1 });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['extra', 'lines[0].action', 'lines[0].quantity', 'orderId']);
    expect((await t.http('POST', '/v1/orders', '{"orderId":', {})).status).toBe(400);
    expect((await t.http('POST', '/v1/orders', { ...order(), lines: [] })).body.errors[0].path).toBe('lines');
    expect(await t.head()).toBe(head);
  });

  it('rejects an order with an unknown SKU as a whole, records why, and repeats the rejection on retry', async () => {
    const body = order({ lines: [{ lineId: '10', sku: 'ANL-PRO', quantity: 1, action: 'new' }, { lineId: '20', sku: 'NOPE', quantity: 1, action: 'new' }] });
    const res = await t.http('POST', '/v1/orders', body, erp);
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: 'CATALOG.UNKNOWN_SKU', details: { orderId: 'SO-1', lineId: '20' } });
    const events = await t.eventsAfter(0);
    expect(events.filter((e) => e.stream === 'order-SO-1').map((e) => e.type)).toEqual(['OrderReceived', 'OrderRejected']);
    expect(events.some((e) => e.type === 'EntitlementGranted')).toBe(false);
    const head = await t.head();
    const retry = await t.http('POST', '/v1/orders', body, erp);
    expect(retry.status).toBe(422);
    expect(retry.body.details.replayed).toBe(true);
    expect(await t.head()).toBe(head);
  });

  it('rejects lines that cannot apply to the entitlements they name, before changing any', async () => {
    await t.http('POST', '/v1/orders', order(), erp);
    const ent = entitlementIdForLine('SO-1', '10');
    const head = await t.head();
    const res = await t.http('POST', '/v1/orders', {
      orderId: 'SO-2',
      customerId: 'acme',
      lines: [
        { lineId: '1', sku: 'ANL-ADDON-AI', quantity: 1, action: 'add_on', entitlementId: ent },
        { lineId: '2', sku: 'ANL-ENT', quantity: 1, action: 'upgrade', entitlementId: 'does-not-exist' },
      ],
    });
    // The rejection answers with the status the error table gives its code, as on every other endpoint.
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'ENTITLEMENT.NOT_FOUND', details: { orderId: 'SO-2', lineId: '2' } });
    expect((await t.eventsAfter(head)).map((e) => e.type)).toEqual(['OrderReceived', 'OrderRejected']);

    const other = await t.http('POST', '/v1/orders', { orderId: 'SO-3', customerId: 'globex', lines: [{ lineId: '1', sku: 'ANL-ENT', quantity: 1, action: 'upgrade', entitlementId: ent }] });
    expect(other).toMatchObject({ status: 409, body: { code: 'ENTITLEMENT.CUSTOMER_MISMATCH' } });
  });

  it('applies a line to the entitlement as it is then, when it changed after the dry run read it', async () => {
    await t.http('POST', '/v1/orders', order(), erp);
    const ent = entitlementIdForLine('SO-1', '10');
    // Another writer changes the entitlement while the order is received: after its dry run, before its lines.
    const append = t.store.append.bind(t.store);
    let seats: number | null = null;
    t.store.append = async (stream, events, options) => {
      const r = await append(stream, events, options);
      if (stream === orderStream('SO-2') && seats === null) seats = (await t.http('POST', `/v1/entitlements/${ent}/seats`, { seats: 9 })).status;
      return r;
    };
    const head = await t.head();
    const res = await t.http('POST', '/v1/orders', { orderId: 'SO-2', customerId: 'acme', lines: [{ lineId: '1', sku: 'ANL-ADDON-AI', quantity: 1, action: 'add_on', entitlementId: ent }] }, erp);
    expect({ status: res.status, line: res.body.lines?.[0]?.status, seats }).toEqual({ status: 201, line: 'fulfilled', seats: 200 });
    const entEvents = (await t.eventsAfter(head)).filter((e) => e.stream === `entitlement-${ent}`);
    expect(entEvents.map((e) => [e.type, e.revision])).toEqual([
      ['SeatsChanged', 1],
      ['AddOnAttached', 2],
    ]);
  });

  it('upgrades, adds on, renews with a new seat count, downgrades and cancels through orders', async () => {
    await t.http('POST', '/v1/orders', order(), erp);
    const ent = entitlementIdForLine('SO-1', '10');
    const lines = (orderId: string, ...l: object[]) => ({ orderId, customerId: 'acme', effectiveAt: '2026-12-01T00:00:00Z', lines: l });
    const up = await t.http('POST', '/v1/orders', lines('SO-2', { lineId: '1', sku: 'ANL-ENT', quantity: 1, action: 'upgrade', entitlementId: ent }, { lineId: '2', sku: 'ANL-ADDON-API-50K', quantity: 2, action: 'add_on', entitlementId: ent }));
    expect(up.status).toBe(201);
    expect(up.body.lines.map((l: { events: string[] }) => l.events)).toEqual([['PlanChanged'], ['AddOnAttached']]);
    let view = (await t.http('GET', `/v1/entitlements/${ent}`)).body;
    expect(view).toMatchObject({ planId: 'enterprise', seats: 10, features: { sso: {}, api_calls: { meter: { cap: 1_000_000 + 100_000 } } } });

    const renew = await t.http('POST', '/v1/orders', { ...lines('SO-3', { lineId: '1', sku: 'ANL-ENT', quantity: 3, action: 'renew', entitlementId: ent }), effectiveAt: '2027-10-20T00:00:00Z' });
    expect(renew.body.lines[0].events).toEqual(['EntitlementRenewed', 'SeatsChanged']);
    view = (await t.http('GET', `/v1/entitlements/${ent}`)).body;
    expect(view).toMatchObject({ seats: 30, validUntil: '2028-11-01T00:00:00.000Z' });

    const down = await t.http('POST', '/v1/orders', lines('SO-4', { lineId: '1', sku: 'ANL-PRO', quantity: 4, action: 'downgrade', entitlementId: ent }, { lineId: '2', sku: 'ANL-ADDON-API-50K', quantity: 1, action: 'cancel', entitlementId: ent }));
    expect(down.body.lines.map((l: { events: string[] }) => l.events)).toEqual([['PlanChanged'], ['AddOnDetached']]);
    const cancel = await t.http('POST', '/v1/orders', lines('SO-5', { lineId: '1', sku: 'ANL-PRO', quantity: 1, action: 'cancel', entitlementId: ent }));
    expect(cancel.body.lines[0].events).toEqual(['EntitlementRevoked']);
    expect((await t.http('GET', `/v1/entitlements/${ent}`)).body).toMatchObject({ status: 'revoked', statusReason: 'cancelled by order SO-5 line 1' });
  });

  it('shows an order and its outcome', async () => {
    const placed = await t.http('POST', '/v1/orders', order(), erp);
    const res = await t.http('GET', `/v1/orders/SO-1?minPosition=${placed.body.position}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ orderId: 'SO-1', status: 'fulfilled', lines: order().lines, results: [{ status: 'fulfilled' }, { status: 'fulfilled' }] });
    expect((await t.http('GET', '/v1/orders/SO-404')).body.code).toBe('ORDER.NOT_FOUND');
  });

  it('finishes at boot an order a crash left received but not fulfilled', async () => {
    // Simulate the crash: the order was received and its first line applied, then the process died.
    await t.http('POST', '/v1/orders', order(), erp);
    const all = await t.eventsAfter(0);
    const dataDir = t.dataDir;
    await t.close();
    const crashed = SqliteEventStore.open({ path: `${dataDir}/events-crashed.db` });
    const keep = all.filter((e) => e.type === 'CatalogPublished' || e.stream === 'api-keys' || e.type === 'OrderReceived' || (e.type === 'EntitlementGranted' && e.stream.endsWith(entitlementIdForLine('SO-1', '10'))));
    for (const e of keep) await crashed.append(e.stream, [{ id: e.id, type: e.type, data: e.data, metadata: e.metadata }]);
    await crashed.close();
    // The read models go too: they are rebuilt from the log.
    for (const db of ['events.db', 'read-models.db']) for (const suffix of ['', '-wal', '-shm']) rmSync(`${dataDir}/${db}${suffix}`, { force: true });
    renameSync(`${dataDir}/events-crashed.db`, `${dataDir}/events.db`);

    t = await startLedgerApp({ dataDir });
    expect(await t.app.get(OrderRecovery).bootPass).toBe(1);
    const stream = await t.store.readStream(orderStream('SO-1'));
    const state = foldOrder(stream.map((e) => ({ type: e.type, data: e.data, metadata: e.metadata }) as unknown as OrderEvent));
    expect(state.status).toBe('fulfilled');
    const grants = (await t.eventsAfter(0)).filter((e) => e.type === 'EntitlementGranted');
    expect(grants).toHaveLength(2); // the first line was not applied twice
    const again = await t.http('POST', '/v1/orders', order(), erp);
    expect(again.status).toBe(200);
  });
});
