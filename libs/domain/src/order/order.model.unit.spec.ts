import fc from 'fast-check';
import { expectEqual, propertyParams } from '@el/testing';
import { catalog, meta } from '../__fixtures__/fixtures';
import { resolveSku } from '../catalog/catalog';
import { decideEntitlement } from '../entitlement/entitlement.decider';
import type { EntitlementCommand } from '../entitlement/entitlement.commands';
import { evolveEntitlement, initialEntitlementState, type EntitlementState } from '../entitlement/entitlement.state';
import { DomainError, type DomainErrorCode } from '../shared/errors';
import { ORDER_ACTIONS, type ErpOrder, type OrderCommand, type OrderEvent, type OrderLine, type OrderLineResult, type OrderState } from './order';
import { decideOrder, evolveOrder, initialOrderState } from './order.decider';
import { commandsForOrderLine } from './order-fulfillment';

/**
 * Model-based tests of orders: the order stream's decider against a reference
 * model of "received once, decided once" and of the catalog rules a line must
 * meet; and order fulfilment (order lines → entitlement commands → events)
 * against the rule that an order changes only its own customer's entitlements
 * and changes plans only as the catalog allows. Seeds: libs/testing/src/property.ts.
 */

const m = meta({ source: 'erp', actor: { type: 'erp', id: 'sap' } });
const SKUS = [...catalog.catalog.products.flatMap((p) => p.plans.map((plan) => plan.sku)), ...catalog.catalog.addOns.map((a) => a.sku), 'NOPE'];
const hashOf = (o: ErpOrder) => JSON.stringify(o);

// ---------------------------------------------------------------- the order stream

/** The rules a line breaks on its own (catalog, shape), with the code each one is refused with. */
function brokenLineRules(line: OrderLine, earlierLineIds: readonly string[]): DomainErrorCode[] {
  const broken: DomainErrorCode[] = [];
  if (earlierLineIds.includes(line.lineId)) broken.push('ORDER.INVALID_LINE');
  if (!Number.isInteger(line.quantity) || line.quantity < 1) broken.push('ORDER.INVALID_LINE');
  if ((line.action === 'new') === (line.entitlementId !== undefined)) broken.push('ORDER.INVALID_LINE');
  const r = resolveSku(catalog.catalog, line.sku);
  if (!r) broken.push('CATALOG.UNKNOWN_SKU');
  else if (['new', 'renew', 'upgrade', 'downgrade'].includes(line.action) && r.kind !== 'plan') broken.push('CATALOG.NOT_A_PLAN');
  else if (line.action === 'add_on' && r.kind !== 'add_on') broken.push('CATALOG.NOT_AN_ADD_ON');
  return broken;
}

type OrderAction =
  | { readonly do: 'receive'; readonly order: ErpOrder }
  | { readonly do: 'reject' }
  | { readonly do: 'complete'; readonly failed: readonly boolean[] };

interface OrderModel {
  readonly status: 'none' | 'received' | 'rejected' | 'fulfilled';
  readonly first: ErpOrder | null;
}

const line: fc.Arbitrary<OrderLine> = fc.record(
  {
    lineId: fc.constantFrom('10', '20', '30'),
    sku: fc.constantFrom(...SKUS),
    quantity: fc.oneof({ arbitrary: fc.integer({ min: 1, max: 5 }), weight: 5 }, { arbitrary: fc.constantFrom(0, -1, 1.5), weight: 1 }),
    action: fc.constantFrom(...ORDER_ACTIONS),
    entitlementId: fc.constantFrom('ent-a', 'ent-b'),
  },
  { requiredKeys: ['lineId', 'sku', 'quantity', 'action'] },
);
const erpOrder: fc.Arbitrary<ErpOrder> = fc.record({
  orderId: fc.constant('SO-1'),
  customerId: fc.constantFrom('cust-a', 'cust-b'),
  effectiveAt: fc.constant('2026-02-01T00:00:00.000Z'),
  lines: fc.array(line, { minLength: 1, maxLength: 3 }),
});
const orderAction: fc.Arbitrary<OrderAction> = fc.oneof(
  { arbitrary: fc.record({ do: fc.constant('receive' as const), order: erpOrder }), weight: 3 },
  fc.constant({ do: 'reject' as const }),
  fc.record({ do: fc.constant('complete' as const), failed: fc.array(fc.boolean(), { minLength: 1, maxLength: 3 }) }),
);

function orderCommand(a: OrderAction): OrderCommand {
  switch (a.do) {
    case 'receive':
      return { type: 'ReceiveOrder', data: { order: a.order, payloadHash: hashOf(a.order), catalog }, metadata: m };
    case 'reject':
      return { type: 'RejectOrder', data: { code: 'ENTITLEMENT.NOT_FOUND', message: 'model' }, metadata: m };
    case 'complete': {
      const lines: OrderLineResult[] = a.failed.map((failed, i) => ({
        lineId: String(i),
        action: 'new',
        sku: 'ANL-PRO',
        entitlementId: `ent-${i}`,
        status: failed ? 'failed' : 'fulfilled',
        events: failed ? [] : ['EntitlementGranted'],
      }));
      return { type: 'CompleteOrder', data: { lines }, metadata: m };
    }
  }
}

function runOrder(actions: readonly OrderAction[]): void {
  let model: OrderModel = { status: 'none', first: null };
  let state: OrderState = initialOrderState;
  const history: OrderEvent[] = [];
  for (const [i, a] of actions.entries()) {
    const where = () => `step ${i} ${JSON.stringify(a)}\nmodel: ${JSON.stringify(model)}`;
    let events: OrderEvent[] | null = null;
    let code: string | null = null;
    try {
      events = decideOrder(orderCommand(a), state);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      code = err.code;
    }
    const got = code ?? JSON.stringify(events!.map((e) => e.type));
    if (a.do === 'receive') {
      if (model.first === null) {
        // The first receipt is recorded, with its rejection when a line is invalid: the first such line, for a rule it breaks.
        const problems = a.order.lines.map((l, k) => brokenLineRules(l, a.order.lines.slice(0, k).map((x) => x.lineId)));
        const firstBad = problems.findIndex((p) => p.length > 0);
        if (firstBad === -1) {
          expectEqual(got, '["OrderReceived"]', where);
          model = { status: 'received', first: a.order };
        } else {
          expectEqual(got, '["OrderReceived","OrderRejected"]', where);
          const rejected = events![1]!;
          if (rejected.type !== 'OrderRejected') throw new Error(where());
          expectEqual(
            { lineId: rejected.data.lineId, code: problems[firstBad]!.includes(rejected.data.code as DomainErrorCode) ? 'a rule the line breaks' : rejected.data.code },
            { lineId: a.order.lines[firstBad]!.lineId, code: 'a rule the line breaks' },
            where,
          );
          model = { status: 'rejected', first: a.order };
        }
      } else {
        // Received once: the same payload again is a no-op, another payload is refused, whatever happened since.
        expectEqual(got, hashOf(a.order) === hashOf(model.first) ? '[]' : 'ORDER.PAYLOAD_MISMATCH', where);
      }
    } else {
      // Decided once: an outcome needs a receipt and no outcome yet.
      const expected = model.status === 'none' ? 'ORDER.NOT_RECEIVED' : model.status !== 'received' ? 'ORDER.ALREADY_COMPLETED' : a.do === 'reject' ? '["OrderRejected"]' : '["OrderFulfilled"]';
      expectEqual(got, expected, where);
      if (code === null) model = { ...model, status: a.do === 'reject' ? 'rejected' : 'fulfilled' };
    }
    if (events) {
      history.push(...events);
      state = events.reduce(evolveOrder, state);
    }
    // The stream: one receipt, the order as first received, at most one outcome, and the state says which.
    expectEqual(
      { receipts: history.filter((e) => e.type === 'OrderReceived').length, outcomes: Math.min(2, history.filter((e) => e.type !== 'OrderReceived').length), status: state.status },
      { receipts: model.first ? 1 : 0, outcomes: model.status === 'rejected' || model.status === 'fulfilled' ? 1 : 0, status: model.status },
      where,
    );
    if (state.status !== 'none') expectEqual(state.order, model.first!, where);
    if (state.status === 'fulfilled' && a.do === 'complete' && code === null) expectEqual(state.partial, a.failed.some(Boolean), where);
  }
}

// ---------------------------------------------------------------- fulfilment across customers

/** Two customers' entitlements, each with an add-on attached, and the order lines that could touch them. */
function world(planA: string, planB: string): Map<string, EntitlementState> {
  const states = new Map<string, EntitlementState>();
  for (const [id, customerId, sku] of [['ent-a', 'cust-a', planA], ['ent-b', 'cust-b', planB]] as const) {
    let state: EntitlementState = initialEntitlementState;
    const grant: EntitlementCommand = { type: 'GrantEntitlement', data: { entitlementId: id, customerId, catalog, sku, quantity: 2, origin: { kind: 'manual' } }, metadata: m };
    state = decideEntitlement(grant, state).reduce(evolveEntitlement, state);
    if (state.status !== 'none' && state.productId === 'analytics') {
      const attach: EntitlementCommand = { type: 'AttachAddOn', data: { catalog, sku: 'ANL-AI', quantity: 1 }, metadata: m };
      state = decideEntitlement(attach, state).reduce(evolveEntitlement, state);
    }
    states.set(id, state);
  }
  return states;
}

function fulfil(order: ErpOrder, states: Map<string, EntitlementState>): void {
  for (const l of order.lines) {
    const { entitlementId, commands } = commandsForOrderLine(order, l, catalog, `new-${l.lineId}`, m);
    let state = states.get(entitlementId) ?? initialEntitlementState;
    for (const command of commands) {
      const before = state;
      let events;
      try {
        events = decideEntitlement(command, state);
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        break; // the line fails; nothing was emitted
      }
      state = events.reduce(evolveEntitlement, state);
      const where = `line ${JSON.stringify(l)} of ${order.customerId}'s order, command ${command.type}: ${JSON.stringify(events.map((e) => e.type))}`;
      if (before.status !== 'none' && events.length > 0) {
        expectEqual(before.customerId, order.customerId, () => where);
      }
      if (state.status === 'none') continue;
      expectEqual(state.customerId, order.customerId, () => where);
      // Plans change only within the product, in the direction the line says.
      if (before.status !== 'none' && state.planSku !== before.planSku) {
        expectEqual({ product: state.productId, direction: state.tier > before.tier ? 'upgrade' : 'downgrade' }, { product: before.productId, direction: l.action }, () => where);
      }
    }
    states.set(entitlementId, state);
  }
}

describe('Orders against a reference model (fast-check)', () => {
  it('are received once and decided once, and a line breaking a catalog rule rejects the order naming it', () => {
    fc.assert(fc.property(fc.array(orderAction, { maxLength: 12, size: 'max' }), runOrder), propertyParams(400));
  });

  it('never change another customer\'s entitlement, and change plans only as the catalog allows', () => {
    const plans = catalog.catalog.products.flatMap((p) => p.plans.map((plan) => plan.sku));
    fc.assert(
      fc.property(fc.constantFrom(...plans), fc.constantFrom(...plans), fc.array(erpOrder, { minLength: 1, maxLength: 4 }), (planA, planB, orders) => {
        const states = world(planA, planB);
        for (const o of orders) fulfil(o, states);
      }),
      propertyParams(400),
    );
  });
});
