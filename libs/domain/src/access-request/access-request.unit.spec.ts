import { deciderSpec } from '@el/testing';
import { catalog, meta } from '../__fixtures__/fixtures';
import { envelope } from '../shared/envelope';
import {
  accessRequestDecider,
  commandForApprovedRequest,
  foldAccessRequest,
  type AccessRequestCommand,
  type AccessRequestEvent,
} from './access-request';

const spec = deciderSpec(accessRequestDecider);
const m = meta({ source: 'portal', actor: { type: 'user', id: 'alice' } });
const request: AccessRequestCommand = {
  type: 'RequestAccess',
  data: { requestId: 'r1', customerId: 'cust-1', sku: 'ANL-PRO', quantity: 2, requestedBy: 'alice', reason: 'team needs exports', catalog },
  metadata: m,
};
const requested: AccessRequestEvent = {
  type: 'AccessRequested',
  data: { requestId: 'r1', customerId: 'cust-1', sku: 'ANL-PRO', kind: 'plan', quantity: 2, requestedBy: 'alice', reason: 'team needs exports', catalogVersion: 1 },
  metadata: envelope(m),
};
const approve = (by: string): AccessRequestCommand => ({ type: 'ApproveAccess', data: { approvedBy: by, comment: 'ok', newEntitlementId: 'ent-r1' }, metadata: m });

describe('Access request decider', () => {
  it('records a request', () => spec.given([]).when(request).then([requested]));
  it('rejects a duplicate request, unknown SKUs and add-on requests without an entitlement', () => {
    spec.given([requested]).when(request).thenRejects('ACCESS_REQUEST.ALREADY_EXISTS');
    spec.given([]).when({ ...request, data: { ...request.data, sku: 'NOPE' } } as AccessRequestCommand).thenRejects('CATALOG.UNKNOWN_SKU');
    spec.given([]).when({ ...request, data: { ...request.data, sku: 'ANL-AI' } } as AccessRequestCommand).thenRejects('CATALOG.NOT_A_PLAN');
  });
  it('approves with the approver recorded', () => {
    spec.given([requested]).when(approve('bob')).then([
      { type: 'AccessApproved', data: { requestId: 'r1', customerId: 'cust-1', approvedBy: 'bob', comment: 'ok', entitlementId: 'ent-r1' }, metadata: envelope(m) },
    ]);
  });
  it('forbids approving one\'s own request', () => {
    spec.given([requested]).when(approve('alice')).thenRejects('ACCESS_REQUEST.SELF_APPROVAL');
  });
  it('rejects with the approver recorded, and a decided request cannot be decided again', () => {
    const rejectCmd: AccessRequestCommand = { type: 'RejectAccess', data: { rejectedBy: 'bob', reason: 'no budget' }, metadata: m };
    spec.given([requested]).when(rejectCmd).then((events) => expect(events[0]).toMatchObject({ type: 'AccessRejected', data: { rejectedBy: 'bob', reason: 'no budget' } }));
    const rejected = accessRequestDecider.decide(rejectCmd, foldAccessRequest([requested]));
    spec.given([requested, ...rejected]).when(approve('carol')).thenRejects('ACCESS_REQUEST.ALREADY_DECIDED');
    spec.given([]).when(approve('carol')).thenRejects('ACCESS_REQUEST.NOT_FOUND');
  });
  it('turns an approved plan request into a grant with the request as origin', () => {
    const approved = accessRequestDecider.decide(approve('bob'), foldAccessRequest([requested]));
    const state = foldAccessRequest([requested, ...approved]);
    if (state.status !== 'approved') throw new Error('expected approved');
    const c = commandForApprovedRequest(state, catalog, m);
    expect(c).toMatchObject({ type: 'GrantEntitlement', data: { entitlementId: 'ent-r1', sku: 'ANL-PRO', quantity: 2, origin: { kind: 'access_request', requestId: 'r1' } } });
  });
  it('a plan request that names an entitlement changes its plan when approved (upgrade or downgrade), on that entitlement', () => {
    const upgrade: AccessRequestEvent = { ...requested, data: { ...(requested.data as object), sku: 'ANL-ENT', quantity: 1, entitlementId: 'ent-7' } } as AccessRequestEvent;
    spec.given([upgrade]).when(approve('bob')).then([
      { type: 'AccessApproved', data: { requestId: 'r1', customerId: 'cust-1', approvedBy: 'bob', comment: 'ok', entitlementId: 'ent-7', action: 'change_plan' }, metadata: envelope(m) },
    ]);
    const state = foldAccessRequest([upgrade, ...accessRequestDecider.decide(approve('bob'), foldAccessRequest([upgrade]))]);
    if (state.status !== 'approved') throw new Error('expected approved');
    expect(state).toMatchObject({ action: 'change_plan', entitlementId: 'ent-7' });
    expect(commandForApprovedRequest(state, catalog, m)).toMatchObject({ type: 'ChangePlan', data: { sku: 'ANL-ENT', quantity: 1, customerId: 'cust-1' } });
  });
  it('an approval recorded before plan changes existed still reads as a grant, an add-on as an attachment', () => {
    const named: AccessRequestEvent = { ...requested, data: { ...(requested.data as object), entitlementId: 'ent-7' } } as AccessRequestEvent;
    const old: AccessRequestEvent = { type: 'AccessApproved', data: { requestId: 'r1', customerId: 'cust-1', approvedBy: 'bob', comment: 'ok', entitlementId: 'ent-new' }, metadata: envelope(m) };
    const state = foldAccessRequest([named, old]);
    if (state.status !== 'approved') throw new Error('expected approved');
    expect(commandForApprovedRequest(state, catalog, m)).toMatchObject({ type: 'GrantEntitlement', data: { entitlementId: 'ent-new' } });
    const addOn: AccessRequestEvent = { ...requested, data: { ...(requested.data as object), kind: 'add_on', sku: 'ANL-AI', entitlementId: 'ent-7' } } as AccessRequestEvent;
    const attached = foldAccessRequest([addOn, { ...old, data: { ...old.data, entitlementId: 'ent-7' } } as AccessRequestEvent]);
    if (attached.status !== 'approved') throw new Error('expected approved');
    expect(commandForApprovedRequest(attached, catalog, m)).toMatchObject({ type: 'AttachAddOn', data: { sku: 'ANL-AI' } });
  });
  it('records the grant once it is carried out, once, and only for an approved request', () => {
    const approved = accessRequestDecider.decide(approve('bob'), foldAccessRequest([requested]));
    const fulfil: AccessRequestCommand = { type: 'FulfilAccess', data: { entitlementEvents: ['EntitlementGranted'] }, metadata: m };
    spec.given([requested, ...approved]).when(fulfil).then([
      { type: 'AccessFulfilled', data: { requestId: 'r1', customerId: 'cust-1', entitlementId: 'ent-r1', entitlementEvents: ['EntitlementGranted'] }, metadata: envelope(m) },
    ]);
    const fulfilled = accessRequestDecider.decide(fulfil, foldAccessRequest([requested, ...approved]));
    spec.given([requested, ...approved, ...fulfilled]).when(fulfil).thenNothing();
    expect(foldAccessRequest([requested, ...approved, ...fulfilled])).toMatchObject({ status: 'approved', fulfilledAt: m.now, fulfilment: { entitlementEvents: ['EntitlementGranted'] } });
    expect(foldAccessRequest([requested, ...approved])).toMatchObject({ status: 'approved', fulfilledAt: null, fulfilment: null });
    spec.given([requested]).when(fulfil).thenRejects('ACCESS_REQUEST.NOT_APPROVED');
  });
  it('records a grant that could no longer happen, with why', () => {
    const approved = accessRequestDecider.decide(approve('bob'), foldAccessRequest([requested]));
    const failure = { code: 'ENTITLEMENT.ALREADY_REVOKED', message: 'revoked in the meantime' };
    spec.given([requested, ...approved]).when({ type: 'FulfilAccess', data: { entitlementEvents: [], failure }, metadata: m }).then((events) =>
      expect(events[0]).toMatchObject({ type: 'AccessFulfilled', data: { entitlementEvents: [], failure } }),
    );
  });
});
