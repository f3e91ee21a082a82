import { decideDunning, decideEntitlement, decideOrder, DUNNING_EVENT_TYPES, envelope, foldDunning, type DunningCommand, type DunningEvent, evolveEntitlement, initialEntitlementState, initialOrderState, type CommandMetadata, type DomainEvent, type EntitlementCommand, type EntitlementState } from '@el/domain';
import { sampleCatalog } from '@el/event-store/testing';
import { accessRequestProjection } from './access-request.projection';
import { dunningProjection } from './dunning.projection';
import { childrenChanged, customerSummary, deviceActivationsOf, entitlementProjection, seatAssignmentsOf } from './entitlement.projection';
import { orderProjection } from './order.projection';
import type { ProjectedEvent } from './projection';
import type { DunningRow, EntitlementRow, OrderRow } from '../schema/rows';

const catalog = sampleCatalog();
const meta = (now: string): CommandMetadata => ({ now, correlationId: 'c', causationId: 'c', actor: { type: 'operator', id: 'op' }, source: 'api' });

/** given entitlement commands → the events they produce, as the projector sees them. */
function eventsOf(...commands: ((m: CommandMetadata) => EntitlementCommand)[]): ProjectedEvent[] {
  let state: EntitlementState = initialEntitlementState;
  const out: ProjectedEvent[] = [];
  commands.forEach((c, i) => {
    const events = decideEntitlement(c(meta(`2026-02-0${i + 1}T00:00:00.000Z`)), state);
    state = events.reduce(evolveEntitlement, state);
    for (const e of events) out.push({ ...e, stream: 'entitlement-e1', revision: out.length, position: 100 + out.length } as ProjectedEvent);
  });
  return out;
}
const fold = <R extends { lastRevision: number }>(evolve: (r: R | null, e: ProjectedEvent) => R | null, events: ProjectedEvent[]) => events.reduce<R | null>((r, e) => evolve(r, e), null);

describe('entitlement projection', () => {
  const grant = (m: CommandMetadata): EntitlementCommand => ({ type: 'GrantEntitlement', data: { entitlementId: 'e1', customerId: 'acme', catalog, sku: 'DSG-PRO', quantity: 2, origin: { kind: 'manual' } }, metadata: m });

  it('handles exactly the entitlement event types', () => {
    expect([...entitlementProjection.handles].sort()).toEqual(
      ['AddOnAttached', 'AddOnDetached', 'DeviceActivated', 'DeviceDeactivated', 'EntitlementExpired', 'EntitlementGranted', 'EntitlementReinstated', 'EntitlementRenewed', 'EntitlementRevoked', 'EntitlementSuspended', 'PlanChanged', 'SeatAssigned', 'SeatReleased', 'SeatsChanged'].sort(),
    );
  });

  it('given a grant, seats and a device → the row, its seats and devices', () => {
    const events = eventsOf(grant, (m) => ({ type: 'AssignSeat', data: { userId: 'bob' }, metadata: m }), (m) => ({ type: 'ActivateDevice', data: { deviceId: 'mac', userId: 'bob' }, metadata: m }));
    const row = fold(entitlementProjection.evolve, events)!;
    expect(row).toMatchObject({
      entitlementId: 'e1',
      customerId: 'acme',
      productId: 'designer',
      planId: 'pro',
      status: 'active',
      seats: 2,
      seatsAssigned: 1,
      devicesActive: 1,
      deviceLimit: 4,
      graceEndsAt: expect.any(String),
      lastRevision: 2,
      lastPosition: 102,
      seatAssignedAt: { bob: '2026-02-02T00:00:00.000Z' },
    });
    expect(seatAssignmentsOf(row)).toEqual([{ entitlementId: 'e1', userId: 'bob', customerId: 'acme', assignedAt: '2026-02-02T00:00:00.000Z' }]);
    expect(deviceActivationsOf(row)).toEqual([expect.objectContaining({ deviceId: 'mac', userId: 'bob', activatedAt: '2026-02-03T00:00:00.000Z' })]);
  });

  it('given a release and a revocation → seat gone, status and reason', () => {
    const events = eventsOf(grant, (m) => ({ type: 'AssignSeat', data: { userId: 'bob' }, metadata: m }), (m) => ({ type: 'ReleaseSeat', data: { userId: 'bob' }, metadata: m }), (m) => ({ type: 'RevokeEntitlement', data: { reason: 'fraud' }, metadata: m }));
    const rows = events.reduce<EntitlementRow[]>((acc, e) => [...acc, entitlementProjection.evolve(acc[acc.length - 1] ?? null, e)!], []);
    const last = rows[rows.length - 1]!;
    expect(last).toMatchObject({ status: 'revoked', statusReason: 'fraud', seatsAssigned: 0, seatAssignedAt: {} });
    expect(childrenChanged(rows[1]!, rows[2]!)).toBe(true);
    expect(childrenChanged(rows[2]!, rows[3]!)).toBe(false);
  });

  it('summarises a customer from their entitlement rows', () => {
    expect(
      customerSummary('acme', [
        { status: 'active', seats: 5, seatsAssigned: 2, productId: 'analytics', lastPosition: 9 },
        { status: 'suspended', seats: 1, seatsAssigned: 1, productId: 'vault', lastPosition: 4 },
        { status: 'revoked', seats: 10, seatsAssigned: 0, productId: 'designer', lastPosition: 12 },
      ]),
    ).toEqual({ customerId: 'acme', entitlements: 3, active: 1, suspended: 1, expired: 0, revoked: 1, seats: 6, seatsAssigned: 3, products: ['analytics', 'vault'], lastPosition: 12 });
  });
});

describe('order projection', () => {
  const m = meta('2026-03-01T00:00:00.000Z');
  const order = { orderId: 'SO-1', customerId: 'acme', effectiveAt: '2026-03-01T00:00:00.000Z', lines: [{ lineId: '1', sku: 'NOPE', quantity: 1, action: 'new' as const }] };
  const as = (events: DomainEvent[]): ProjectedEvent[] => events.map((e, i) => ({ ...e, stream: 'order-SO-1', revision: i, position: 10 + i }) as ProjectedEvent);

  it('given a rejected order → the row with the rejection', () => {
    const events = as(decideOrder({ type: 'ReceiveOrder', data: { order, payloadHash: 'h', catalog }, metadata: m }, initialOrderState));
    const row = fold<OrderRow>(orderProjection.evolve, events)!;
    expect(row).toMatchObject({ orderId: 'SO-1', status: 'rejected', rejection: { code: 'CATALOG.UNKNOWN_SKU', lineId: '1' }, lastRevision: 1 });
  });

  it('given a fulfilled order → results and the entitlements it touched', () => {
    const received = { type: 'OrderReceived', data: { ...order, lines: [{ lineId: '1', sku: 'ANL-PRO', quantity: 1, action: 'new' }], payloadHash: 'h', catalogVersion: 1 }, metadata: envelope(m) };
    const fulfilled = { type: 'OrderFulfilled', data: { orderId: 'SO-1', customerId: 'acme', partial: false, lines: [{ lineId: '1', action: 'new', sku: 'ANL-PRO', entitlementId: 'e9', status: 'fulfilled', events: ['EntitlementGranted'] }] }, metadata: envelope(m) };
    const row = fold<OrderRow>(orderProjection.evolve, as([received, fulfilled] as DomainEvent[]))!;
    expect(row).toMatchObject({ status: 'fulfilled', partial: 0, entitlementIds: ['e9'], receivedAt: '2026-03-01T00:00:00.000Z' });
  });
});

describe('access request projection', () => {
  it('given a request and an approval → decided by the approver, with the entitlement', () => {
    const m = meta('2026-04-01T00:00:00.000Z');
    const events: ProjectedEvent[] = [
      { type: 'AccessRequested', data: { requestId: 'r1', customerId: 'acme', sku: 'ANL-ENT', kind: 'plan', quantity: 1, requestedBy: 'alice', reason: 'sso', catalogVersion: 1 }, metadata: envelope(m), stream: 's', revision: 0, position: 1 } as ProjectedEvent,
      { type: 'AccessApproved', data: { requestId: 'r1', customerId: 'acme', approvedBy: 'bob', comment: '', entitlementId: 'e7' }, metadata: envelope(m), stream: 's', revision: 1, position: 2 } as ProjectedEvent,
    ];
    const row = fold(accessRequestProjection.evolve, events)!;
    expect(row).toMatchObject({ requestId: 'r1', status: 'approved', decidedBy: 'bob', entitlementId: 'e7', requestedBy: 'alice', lastRevision: 1, lastPosition: 2 });
  });
});

describe('dunning projection', () => {
  const m = meta('2026-05-01T00:00:00.000Z');
  /** given dunning commands → their events as the projector sees them. */
  function dunningEvents(...commands: DunningCommand[]): ProjectedEvent[] {
    const events: DunningEvent[] = [];
    for (const c of commands) events.push(...decideDunning(c, foldDunning(events)));
    return events.map((e, i) => ({ ...e, stream: 'dunning-acme', revision: i, position: 10 + i }) as ProjectedEvent);
  }
  const failed: DunningCommand = { type: 'RecordPaymentFailure', data: { customerId: 'acme', invoiceId: 'in_1', gatewayEventId: 'evt_1', failedAt: m.now, graceHours: 72 }, metadata: m };
  const suspended: DunningCommand = { type: 'RecordDunningSuspension', data: { caseId: 'in_1', entitlementIds: ['e1', 'e2'] }, metadata: m };
  const paid: DunningCommand = { type: 'RecordInvoicePaid', data: { customerId: 'acme', invoiceId: 'in_1', gatewayEventId: 'evt_2', paidAt: m.now }, metadata: m };

  it('handles exactly the dunning event types', () => expect(dunningProjection.handles).toEqual(DUNNING_EVENT_TYPES));

  it('given a failed invoice → past due, with when the suspension falls due', () => {
    expect(fold<DunningRow>(dunningProjection.evolve, dunningEvents(failed))).toMatchObject({
      customerId: 'acme', status: 'past_due', suspendAt: '2026-05-04T00:00:00.000Z', unpaidInvoices: 1, suspendedEntitlements: 0, lastRevision: 0, lastPosition: 10,
    });
  });

  it('given the suspension and then the payment → recovering until the reinstatement is recorded', () => {
    expect(fold<DunningRow>(dunningProjection.evolve, dunningEvents(failed, suspended))).toMatchObject({ status: 'suspended', suspendAt: null, suspendedEntitlements: 2 });
    expect(fold<DunningRow>(dunningProjection.evolve, dunningEvents(failed, suspended, paid))).toMatchObject({ status: 'recovering', unpaidInvoices: 0, suspendedEntitlements: 2 });
    const reinstated: DunningCommand = { type: 'RecordDunningReinstatement', data: { entitlementIds: ['e1', 'e2'], reinstated: ['e1'] }, metadata: m };
    expect(fold<DunningRow>(dunningProjection.evolve, dunningEvents(failed, suspended, paid, reinstated))).toMatchObject({ status: 'current', suspendedEntitlements: 0, lastRevision: 3 });
  });
});
