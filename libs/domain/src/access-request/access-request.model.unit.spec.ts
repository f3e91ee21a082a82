import fc from 'fast-check';
import { expectEqual, propertyParams } from '@el/testing';
import { catalog, meta } from '../__fixtures__/fixtures';
import { resolveSku } from '../catalog/catalog';
import { DomainError, type DomainErrorCode } from '../shared/errors';
import {
  commandForApprovedRequest,
  decideAccessRequest,
  evolveAccessRequest,
  initialAccessRequestState,
  type AccessRequestCommand,
  type AccessRequestEvent,
  type AccessRequestState,
} from './access-request';

/**
 * Model-based test of the approval workflow: random sequences of requests,
 * approvals, rejections and fulfilments against a reference model of "asked
 * once, decided once and never by the one who asked, carried out once, on the
 * requester's customer". Seeds: libs/testing/src/property.ts.
 */

const m = meta({ source: 'portal', actor: { type: 'user', id: 'alice' } });
const SKUS = [...catalog.catalog.products.flatMap((p) => p.plans.map((plan) => plan.sku)), ...catalog.catalog.addOns.map((a) => a.sku), 'NOPE'];
const PEOPLE = ['alice', 'bob', 'carol'];

type Action =
  | { readonly do: 'request'; readonly sku: string; readonly quantity: number; readonly requestedBy: string; readonly entitlementId?: string }
  | { readonly do: 'approve'; readonly by: string }
  | { readonly do: 'reject'; readonly by: string }
  | { readonly do: 'fulfil'; readonly failed: boolean };

interface Model {
  readonly status: 'none' | 'pending' | 'approved' | 'rejected';
  readonly request: Extract<Action, { do: 'request' }> | null;
  readonly fulfilled: boolean;
}

type Prediction = { readonly refused: readonly DomainErrorCode[] } | { readonly events: readonly string[]; readonly next: Model };

function predict(model: Model, a: Action): Prediction {
  switch (a.do) {
    case 'request': {
      if (model.status !== 'none') return { refused: ['ACCESS_REQUEST.ALREADY_EXISTS'] };
      const broken: DomainErrorCode[] = [];
      const r = resolveSku(catalog.catalog, a.sku);
      if (!r) broken.push('CATALOG.UNKNOWN_SKU');
      if (a.quantity < 1) broken.push('QUANTITY.INVALID');
      // An add-on extends an entitlement: it must name one.
      if (r?.kind === 'add_on' && a.entitlementId === undefined) broken.push('CATALOG.NOT_A_PLAN');
      return broken.length > 0 ? { refused: broken } : { events: ['AccessRequested'], next: { status: 'pending', request: a, fulfilled: false } };
    }
    case 'approve':
    case 'reject': {
      if (model.status === 'none') return { refused: ['ACCESS_REQUEST.NOT_FOUND'] };
      if (model.status !== 'pending') return { refused: ['ACCESS_REQUEST.ALREADY_DECIDED'] };
      if (a.do === 'reject') return { events: ['AccessRejected'], next: { ...model, status: 'rejected' } };
      if (a.by === model.request!.requestedBy) return { refused: ['ACCESS_REQUEST.SELF_APPROVAL'] };
      return { events: ['AccessApproved'], next: { ...model, status: 'approved' } };
    }
    case 'fulfil':
      if (model.status !== 'approved') return { refused: ['ACCESS_REQUEST.NOT_APPROVED'] };
      // Carried out once: a retry records nothing more.
      return model.fulfilled ? { events: [], next: model } : { events: ['AccessFulfilled'], next: { ...model, fulfilled: true } };
  }
}

function commandFor(a: Action): AccessRequestCommand {
  switch (a.do) {
    case 'request': {
      const { do: _do, ...data } = a;
      return { type: 'RequestAccess', data: { requestId: 'r1', customerId: 'cust-1', reason: 'model', catalog, ...data }, metadata: m };
    }
    case 'approve':
      return { type: 'ApproveAccess', data: { approvedBy: a.by, comment: 'ok', newEntitlementId: 'ent-new' }, metadata: m };
    case 'reject':
      return { type: 'RejectAccess', data: { rejectedBy: a.by, reason: 'no' }, metadata: m };
    case 'fulfil':
      return { type: 'FulfilAccess', data: { entitlementEvents: a.failed ? [] : ['EntitlementGranted'], ...(a.failed ? { failure: { code: 'ENTITLEMENT.ALREADY_REVOKED', message: 'x' } } : {}) }, metadata: m };
  }
}

function run(actions: readonly Action[]): void {
  let model: Model = { status: 'none', request: null, fulfilled: false };
  let state: AccessRequestState = initialAccessRequestState;
  const history: AccessRequestEvent[] = [];
  for (const [i, a] of actions.entries()) {
    const where = () => `step ${i} ${JSON.stringify(a)}\nmodel: ${JSON.stringify(model)}`;
    const expected = predict(model, a);
    let got: string;
    let events: AccessRequestEvent[] = [];
    try {
      events = decideAccessRequest(commandFor(a), state);
      got = JSON.stringify(events.map((e) => e.type));
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      got = err.code;
    }
    if ('refused' in expected) {
      expectEqual(expected.refused.includes(got as DomainErrorCode) ? 'refused for a rule it breaks' : got, 'refused for a rule it breaks', () => `${where()}\nbroken: ${expected.refused.join(', ')}`);
      continue;
    }
    expectEqual(got, JSON.stringify(expected.events), where);
    history.push(...events);
    state = events.reduce(evolveAccessRequest, state);
    model = expected.next;

    // Whatever the model says: decided once, never by the requester, carried out once and after the approval.
    const approval = history.find((e) => e.type === 'AccessApproved');
    const fulfilments = history.filter((e) => e.type === 'AccessFulfilled');
    expectEqual(
      {
        decisions: history.filter((e) => e.type === 'AccessApproved' || e.type === 'AccessRejected').length <= 1,
        approvedByRequester: approval?.type === 'AccessApproved' && approval.data.approvedBy === model.request!.requestedBy,
        fulfilments: fulfilments.length <= 1,
        fulfilledBeforeApproval: fulfilments.length > 0 && history.indexOf(approval!) > history.indexOf(fulfilments[0]!),
        status: state.status,
      },
      { decisions: true, approvedByRequester: false, fulfilments: true, fulfilledBeforeApproval: false, status: model.status },
      where,
    );

    // What an approval carries out: on the requester's customer, the entitlement it named (or a new one), as the SKU's kind says.
    if (state.status === 'approved') {
      const c = commandForApprovedRequest(state, catalog, m);
      const r = model.request!;
      const kind = resolveSku(catalog.catalog, r.sku)!.kind;
      const expectedType = kind === 'add_on' ? 'AttachAddOn' : r.entitlementId ? 'ChangePlan' : 'GrantEntitlement';
      expectEqual(
        { type: c.type, customerId: (c.data as { customerId?: string }).customerId, sku: (c.data as { sku: string }).sku, entitlementId: state.entitlementId },
        { type: expectedType, customerId: 'cust-1', sku: r.sku, entitlementId: expectedType === 'GrantEntitlement' ? 'ent-new' : r.entitlementId! },
        where,
      );
    }
  }
}

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record(
    {
      do: fc.constant('request' as const),
      sku: fc.constantFrom(...SKUS),
      quantity: fc.integer({ min: 0, max: 3 }),
      requestedBy: fc.constantFrom(...PEOPLE),
      entitlementId: fc.constant('ent-7'),
    },
    { requiredKeys: ['do', 'sku', 'quantity', 'requestedBy'] },
  ),
  fc.record({ do: fc.constant('approve' as const), by: fc.constantFrom(...PEOPLE) }),
  fc.record({ do: fc.constant('reject' as const), by: fc.constantFrom(...PEOPLE) }),
  fc.record({ do: fc.constant('fulfil' as const), failed: fc.boolean() }),
);

describe('Access requests against a reference model (fast-check)', () => {
  it('are asked once, decided once and never by the requester, and carried out once on the requester\'s customer', () => {
    fc.assert(fc.property(fc.array(action, { maxLength: 12, size: 'max' }), run), propertyParams(300));
  });
});
