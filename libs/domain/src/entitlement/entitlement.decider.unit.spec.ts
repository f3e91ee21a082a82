import { deciderSpec } from '@el/testing';
import { catalog, meta, T0 } from '../__fixtures__/fixtures';
import { envelope } from '../shared/envelope';
import type { EntitlementCommand } from './entitlement.commands';
import { entitlementDecider, foldEntitlement } from './entitlement.decider';
import type { EntitlementEvent, EntitlementGranted } from './entitlement.events';
import { effectiveFeatures } from './entitlement.state';

const spec = deciderSpec(entitlementDecider);
const m = meta();
const ID = 'ent-1';

const grantCmd = (sku = 'ANL-PRO', quantity = 3): EntitlementCommand => ({
  type: 'GrantEntitlement',
  data: { entitlementId: ID, customerId: 'cust-1', catalog, sku, quantity, origin: { kind: 'manual' } },
  metadata: m,
});

/** History builders: the events the decider itself produced for earlier commands. */
function history(...commands: EntitlementCommand[]): EntitlementEvent[] {
  const events: EntitlementEvent[] = [];
  for (const c of commands) events.push(...entitlementDecider.decide(c, foldEntitlement(events)));
  return events;
}
const cmd = <T extends EntitlementCommand['type']>(type: T, data: Extract<EntitlementCommand, { type: T }>['data'], metadata = m) =>
  ({ type, data, metadata }) as EntitlementCommand;

const granted = (sku = 'ANL-PRO', quantity = 3) => history(grantCmd(sku, quantity));

describe('Entitlement decider', () => {
  describe('grant', () => {
    it('grants a plan with seats, term and envelope metadata', () => {
      spec.given([]).when(grantCmd('ANL-PRO', 3)).then([
        {
          type: 'EntitlementGranted',
          data: {
            entitlementId: ID,
            customerId: 'cust-1',
            productId: 'analytics',
            planId: 'pro',
            planSku: 'ANL-PRO',
            tier: 1,
            catalogVersion: 1,
            features: catalog.catalog.products[0]!.plans[1]!.features,
            term: { unit: 'month', count: 12 },
            graceDays: 14,
            seatsPerUnit: 1,
            maxDevicesPerSeat: 2,
            regions: null,
            seats: 3,
            validFrom: T0,
            validUntil: '2027-01-15T10:00:00.000Z',
            origin: { kind: 'manual' },
          },
          metadata: {
            correlationId: 'corr-1',
            causationId: 'cause-1',
            actor: { type: 'operator', id: 'op-1' },
            source: 'api',
            recordedAt: T0,
            effectiveAt: T0,
            schemaVersion: 1,
          },
        } satisfies EntitlementGranted,
      ]);
    });

    it('multiplies quantity by seats per unit and leaves perpetual plans open-ended', () => {
      spec.given([]).when(grantCmd('ANL-ENT', 2)).then((events) => {
        expect((events[0] as EntitlementGranted).data.seats).toBe(20);
      });
      spec.given([]).when(grantCmd('ANL-FREE', 1)).then((events) => {
        expect((events[0] as EntitlementGranted).data.validUntil).toBeNull();
      });
    });

    it('uses effectiveAt, not the processing time, as the start of validity', () => {
      const c = { ...grantCmd(), metadata: meta({ effectiveAt: '2026-03-01T00:00:00.000Z' }) };
      spec.given([]).when(c).then((events) => {
        const g = events[0] as EntitlementGranted;
        expect(g.data.validFrom).toBe('2026-03-01T00:00:00.000Z');
        expect(g.data.validUntil).toBe('2027-03-01T00:00:00.000Z');
        expect(g.metadata.recordedAt).toBe(T0);
      });
    });

    it('rejects a second grant of the same entitlement', () => {
      spec.given(granted()).when(grantCmd()).thenRejects('ENTITLEMENT.ALREADY_EXISTS');
    });
    it('rejects unknown SKUs, add-on SKUs and bad quantities', () => {
      spec.given([]).when(grantCmd('NOPE')).thenRejects('CATALOG.UNKNOWN_SKU', { sku: 'NOPE' });
      spec.given([]).when(grantCmd('ANL-AI')).thenRejects('CATALOG.NOT_A_PLAN');
      spec.given([]).when(grantCmd('ANL-PRO', 0)).thenRejects('QUANTITY.INVALID');
    });
  });

  describe('operations on a missing or revoked entitlement', () => {
    it('rejects any change to an entitlement that does not exist', () => {
      spec.given([]).when(cmd('SuspendEntitlement', { reason: 'x' })).thenRejects('ENTITLEMENT.NOT_FOUND');
    });
    it('treats revocation as terminal', () => {
      const revoked = history(grantCmd(), cmd('RevokeEntitlement', { reason: 'fraud' }));
      for (const c of [
        cmd('ReinstateEntitlement', { reason: 'x' }),
        cmd('RevokeEntitlement', { reason: 'again' }),
        cmd('RenewEntitlement', { periods: 1 }),
        cmd('AssignSeat', { userId: 'u1' }),
      ]) {
        spec.given(revoked).when(c).thenRejects('ENTITLEMENT.ALREADY_REVOKED');
      }
    });
    it('refuses an order that targets another customer\'s entitlement', () => {
      spec.given(granted()).when(cmd('RevokeEntitlement', { reason: 'x', customerId: 'cust-2', orderId: 'o1' })).thenRejects('ENTITLEMENT.CUSTOMER_MISMATCH');
    });
  });

  describe('plan changes', () => {
    it('upgrades with the feature and limit delta', () => {
      spec.given(granted('ANL-PRO', 1)).when(cmd('ChangePlan', { catalog, sku: 'ANL-ENT', quantity: 1, direction: 'upgrade' })).then((events) => {
        expect(events).toHaveLength(1);
        const e = events[0]!;
        expect(e.type).toBe('PlanChanged');
        expect(e.data).toMatchObject({
          fromPlanId: 'pro',
          planId: 'enterprise',
          direction: 'upgrade',
          seats: 10,
          delta: {
            added: ['sso'],
            removed: [],
            limitsChanged: { projects: { from: 25, to: 1000 }, api_calls: { from: 1000, to: 100000 } },
          },
        });
      });
    });
    it('downgrades and reports removed features', () => {
      spec.given(granted('ANL-ENT', 1)).when(cmd('ChangePlan', { catalog, sku: 'ANL-PRO', quantity: 5, direction: 'downgrade' })).then((events) => {
        expect(events[0]!.data).toMatchObject({ direction: 'downgrade', seats: 5, delta: { removed: ['sso'] } });
      });
    });
    it('keeps seats when no quantity is given', () => {
      spec.given(granted('ANL-PRO', 4)).when(cmd('ChangePlan', { catalog, sku: 'ANL-FREE' })).then((events) => {
        expect(events[0]!.data).toMatchObject({ seats: 4, direction: 'downgrade' });
      });
    });
    it('rejects a "downgrade" that is an upgrade, the same plan, and another product', () => {
      spec.given(granted()).when(cmd('ChangePlan', { catalog, sku: 'ANL-ENT', direction: 'downgrade' })).thenRejects('PLAN.NOT_A_DOWNGRADE');
      spec.given(granted()).when(cmd('ChangePlan', { catalog, sku: 'ANL-FREE', direction: 'upgrade' })).thenRejects('PLAN.NOT_AN_UPGRADE');
      spec.given(granted()).when(cmd('ChangePlan', { catalog, sku: 'ANL-PRO' })).thenRejects('PLAN.SAME_PLAN');
      spec.given(granted()).when(cmd('ChangePlan', { catalog, sku: 'VLT-PRO' })).thenRejects('PLAN.PRODUCT_MISMATCH');
    });
    it('rejects a plan change that would leave one user above the new plan\'s devices per seat, though the total fits', () => {
      // Found by the model-based test (entitlement.model.unit.spec.ts): only the total was checked.
      const h = history(
        grantCmd('ANL-FREE', 1),
        cmd('ChangeSeats', { seats: 2 }),
        cmd('AssignSeat', { userId: 'a' }),
        ...['d1', 'd2', 'd3'].map((deviceId) => cmd('ActivateDevice', { deviceId, userId: 'a' })),
      );
      spec.given(h).when(cmd('ChangePlan', { catalog, sku: 'ANL-PRO' })).thenRejects('DEVICE.ABOVE_LIMIT', { userId: 'a', active: 3, limit: 2, deactivate: 1 });
      const fewer = history(grantCmd('ANL-FREE', 1), cmd('ChangeSeats', { seats: 2 }), cmd('AssignSeat', { userId: 'a' }), cmd('ActivateDevice', { deviceId: 'd1', userId: 'a' }), cmd('ActivateDevice', { deviceId: 'd2', userId: 'a' }));
      spec.given(fewer).when(cmd('ChangePlan', { catalog, sku: 'ANL-PRO' })).then((events) => expect(events.map((e) => e.type)).toEqual(['PlanChanged']));
    });
    it('rejects a downgrade that would leave fewer seats than are assigned, saying how many to release', () => {
      const h = history(grantCmd('ANL-PRO', 3), cmd('AssignSeat', { userId: 'a' }), cmd('AssignSeat', { userId: 'b' }), cmd('AssignSeat', { userId: 'c' }));
      spec.given(h).when(cmd('ChangePlan', { catalog, sku: 'ANL-FREE', quantity: 1 })).thenRejects('SEATS.BELOW_ASSIGNED', { assigned: 3, requested: 1, release: 2 });
    });
  });

  describe('add-ons', () => {
    it('attaches an add-on and scales raised caps by quantity', () => {
      spec.given(granted()).when(cmd('AttachAddOn', { catalog, sku: 'ANL-API-10K', quantity: 2 })).then((events) => {
        expect(events[0]!.data).toMatchObject({
          sku: 'ANL-API-10K',
          quantity: 2,
          totalQuantity: 2,
          features: { api_calls: { meter: { cap: 20000, period: 'month', capType: 'soft' } } },
        });
      });
    });
    it('accumulates quantity when the same add-on is bought again, and adds to the plan\'s cap', () => {
      const h = history(grantCmd(), cmd('AttachAddOn', { catalog, sku: 'ANL-API-10K', quantity: 1 }), cmd('AttachAddOn', { catalog, sku: 'ANL-API-10K', quantity: 1 }));
      const state = foldEntitlement(h);
      if (state.status === 'none') throw new Error('expected an entitlement');
      expect(state.addOns['ANL-API-10K']!.quantity).toBe(2);
      expect(effectiveFeatures(state)['api_calls']!.meter!.cap).toBe(1000 + 20000);
    });
    it('rejects add-ons of another product, plan SKUs, and detaching what is not attached', () => {
      spec.given(history(grantCmd('VLT-PRO', 1))).when(cmd('AttachAddOn', { catalog, sku: 'ANL-AI', quantity: 1 })).thenRejects('ADD_ON.PRODUCT_MISMATCH');
      spec.given(granted()).when(cmd('AttachAddOn', { catalog, sku: 'ANL-ENT', quantity: 1 })).thenRejects('CATALOG.NOT_AN_ADD_ON');
      spec.given(granted()).when(cmd('DetachAddOn', { sku: 'ANL-AI', reason: 'x' })).thenRejects('ADD_ON.NOT_ATTACHED');
    });
    it('detaches an attached add-on', () => {
      const h = history(grantCmd(), cmd('AttachAddOn', { catalog, sku: 'ANL-AI', quantity: 1 }));
      spec.given(h).when(cmd('DetachAddOn', { sku: 'ANL-AI', reason: 'not renewed' })).then([
        { type: 'AddOnDetached', data: { entitlementId: ID, sku: 'ANL-AI', reason: 'not renewed' }, metadata: envelope(m) },
      ]);
    });
  });

  describe('seats', () => {
    it('changes the seat count, and a change to the same count is a no-op', () => {
      spec.given(granted('ANL-PRO', 3)).when(cmd('ChangeSeats', { seats: 5 })).then([
        { type: 'SeatsChanged', data: { entitlementId: ID, from: 3, to: 5 }, metadata: envelope(m) },
      ]);
      spec.given(granted('ANL-PRO', 3)).when(cmd('ChangeSeats', { seats: 3 })).thenNothing();
    });
    it('rejects reducing seats below those assigned, saying how many to release', () => {
      const h = history(grantCmd('ANL-PRO', 3), cmd('AssignSeat', { userId: 'a' }), cmd('AssignSeat', { userId: 'b' }));
      spec.given(h).when(cmd('ChangeSeats', { seats: 1 })).thenRejects('SEATS.BELOW_ASSIGNED', { assigned: 2, requested: 1, release: 1 });
      spec.given(h).when(cmd('ChangeSeats', { seats: 0 })).thenRejects('SEATS.INVALID_COUNT');
    });
    it('assigns seats up to the seat count, never more', () => {
      const h = history(grantCmd('ANL-PRO', 2), cmd('AssignSeat', { userId: 'a' }));
      spec.given(h).when(cmd('AssignSeat', { userId: 'b' })).then([
        { type: 'SeatAssigned', data: { entitlementId: ID, userId: 'b' }, metadata: envelope(m) },
      ]);
      const full = history(grantCmd('ANL-PRO', 2), cmd('AssignSeat', { userId: 'a' }), cmd('AssignSeat', { userId: 'b' }));
      spec.given(full).when(cmd('AssignSeat', { userId: 'c' })).thenRejects('SEAT.NONE_AVAILABLE', { seats: 2, assigned: 2 });
      spec.given(h).when(cmd('AssignSeat', { userId: 'a' })).thenRejects('SEAT.ALREADY_ASSIGNED');
    });
    it('releases a seat together with the user\'s devices', () => {
      const h = history(grantCmd('ANL-PRO', 2), cmd('AssignSeat', { userId: 'a' }), cmd('ActivateDevice', { deviceId: 'd1', userId: 'a' }), cmd('ActivateDevice', { deviceId: 'd2' }));
      spec.given(h).when(cmd('ReleaseSeat', { userId: 'a' })).then([
        { type: 'SeatReleased', data: { entitlementId: ID, userId: 'a' }, metadata: envelope(m) },
        { type: 'DeviceDeactivated', data: { entitlementId: ID, deviceId: 'd1' }, metadata: envelope(m) },
      ]);
      spec.given(h).when(cmd('ReleaseSeat', { userId: 'zz' })).thenRejects('SEAT.NOT_ASSIGNED');
    });
  });

  describe('devices', () => {
    it('activates devices up to devices-per-seat times seats', () => {
      const h = history(grantCmd('ANL-PRO', 1), cmd('ActivateDevice', { deviceId: 'd1' }));
      spec.given(h).when(cmd('ActivateDevice', { deviceId: 'd2' })).then([
        { type: 'DeviceActivated', data: { entitlementId: ID, deviceId: 'd2', userId: null }, metadata: envelope(m) },
      ]);
      const full = history(grantCmd('ANL-PRO', 1), cmd('ActivateDevice', { deviceId: 'd1' }), cmd('ActivateDevice', { deviceId: 'd2' }));
      spec.given(full).when(cmd('ActivateDevice', { deviceId: 'd3' })).thenRejects('DEVICE.LIMIT_REACHED', { limit: 2, active: 2 });
      spec.given(h).when(cmd('ActivateDevice', { deviceId: 'd1' })).thenRejects('DEVICE.ALREADY_ACTIVE');
    });
    it('limits each user to devices-per-seat and requires the user to hold a seat', () => {
      const h = history(grantCmd('ANL-PRO', 3), cmd('AssignSeat', { userId: 'a' }), cmd('ActivateDevice', { deviceId: 'd1', userId: 'a' }), cmd('ActivateDevice', { deviceId: 'd2', userId: 'a' }));
      spec.given(h).when(cmd('ActivateDevice', { deviceId: 'd3', userId: 'a' })).thenRejects('DEVICE.LIMIT_REACHED', { userId: 'a' });
      spec.given(h).when(cmd('ActivateDevice', { deviceId: 'd3', userId: 'nobody' })).thenRejects('SEAT.NOT_ASSIGNED');
    });
    it('leaves devices unlimited when the plan sets no limit', () => {
      const h = history(grantCmd('ANL-ENT', 1), ...Array.from({ length: 30 }, (_, i) => cmd('ActivateDevice', { deviceId: `d${i}` })));
      spec.given(h).when(cmd('ActivateDevice', { deviceId: 'd-more' })).then((events) => expect(events).toHaveLength(1));
    });
    it('deactivates only active devices, and blocks seat cuts below active devices', () => {
      const h = history(grantCmd('ANL-PRO', 2), cmd('ActivateDevice', { deviceId: 'd1' }), cmd('ActivateDevice', { deviceId: 'd2' }), cmd('ActivateDevice', { deviceId: 'd3' }));
      spec.given(h).when(cmd('DeactivateDevice', { deviceId: 'nope' })).thenRejects('DEVICE.NOT_ACTIVE');
      spec.given(h).when(cmd('ChangeSeats', { seats: 1 })).thenRejects('DEVICE.ABOVE_LIMIT', { active: 3, limit: 2, deactivate: 1 });
    });
  });

  describe('lifecycle', () => {
    it('suspends, refuses a second suspension, and reinstates', () => {
      spec.given(granted()).when(cmd('SuspendEntitlement', { reason: 'unpaid' })).then([
        { type: 'EntitlementSuspended', data: { entitlementId: ID, reason: 'unpaid' }, metadata: envelope(m) },
      ]);
      const suspended = history(grantCmd(), cmd('SuspendEntitlement', { reason: 'unpaid' }));
      spec.given(suspended).when(cmd('SuspendEntitlement', { reason: 'again' })).thenRejects('ENTITLEMENT.ALREADY_SUSPENDED');
      spec.given(suspended).when(cmd('ReinstateEntitlement', { reason: 'paid' })).then([
        { type: 'EntitlementReinstated', data: { entitlementId: ID, reason: 'paid' }, metadata: envelope(m) },
      ]);
      spec.given(granted()).when(cmd('ReinstateEntitlement', { reason: 'x' })).thenRejects('ENTITLEMENT.NOT_SUSPENDED');
    });
    it('renews from the end of the term when renewed in time', () => {
      const early = meta({ effectiveAt: '2026-12-20T00:00:00.000Z' });
      spec.given(granted()).when(cmd('RenewEntitlement', { periods: 1 }, early)).then((events) => {
        expect(events[0]!.data).toMatchObject({
          previousValidUntil: '2027-01-15T10:00:00.000Z',
          validFrom: '2027-01-15T10:00:00.000Z',
          validUntil: '2028-01-15T10:00:00.000Z',
        });
      });
    });
    it('renewing a suspended entitlement extends it and leaves it suspended', () => {
      // Found by the model-based test: a renewal order used to lift a suspension (dunning's, or an operator's).
      const suspended = history(grantCmd(), cmd('SuspendEntitlement', { reason: 'unpaid' }));
      spec.given(suspended).when(cmd('RenewEntitlement', { periods: 1 })).then((events) => {
        expect(events.map((e) => e.type)).toEqual(['EntitlementRenewed']);
        expect(events.reduce(entitlementDecider.evolve, foldEntitlement(suspended))).toMatchObject({
          status: 'suspended',
          suspendedReason: 'unpaid',
          validUntil: '2028-01-15T10:00:00.000Z',
        });
      });
    });
    it('starts a new term on the renewal date when renewed after the grace period', () => {
      const late = meta({ effectiveAt: '2027-03-01T00:00:00.000Z' });
      spec.given(granted()).when(cmd('RenewEntitlement', { periods: 1 }, late)).then((events) => {
        expect(events[0]!.data).toMatchObject({ validFrom: '2027-03-01T00:00:00.000Z', validUntil: '2028-03-01T00:00:00.000Z' });
      });
    });
    it('refuses to renew or expire a perpetual entitlement', () => {
      spec.given(granted('ANL-FREE', 1)).when(cmd('RenewEntitlement', { periods: 1 })).thenRejects('ENTITLEMENT.PERPETUAL');
      spec.given(granted('ANL-FREE', 1)).when(cmd('ExpireEntitlement', {})).thenRejects('ENTITLEMENT.PERPETUAL');
    });
    it('expires only after validity and grace have passed; expiring twice is a no-op', () => {
      const inGrace = meta({ now: '2027-01-20T00:00:00.000Z' });
      spec.given(granted()).when(cmd('ExpireEntitlement', {}, inGrace)).thenRejects('ENTITLEMENT.NOT_DUE_TO_EXPIRE', { graceEndsAt: '2027-01-29T10:00:00.000Z' });
      const after = meta({ now: '2027-01-29T10:00:00.000Z' });
      spec.given(granted()).when(cmd('ExpireEntitlement', {}, after)).then((events) => {
        expect(events[0]!).toMatchObject({ type: 'EntitlementExpired', data: { validUntil: '2027-01-15T10:00:00.000Z', graceEndedAt: '2027-01-29T10:00:00.000Z' } });
      });
      const expired = history(grantCmd(), cmd('ExpireEntitlement', {}, after));
      spec.given(expired).when(cmd('ExpireEntitlement', {}, after)).thenNothing();
    });
    it('refuses changes to an expired entitlement until it is renewed, which reactivates it', () => {
      const after = meta({ now: '2027-02-01T00:00:00.000Z', effectiveAt: '2027-02-01T00:00:00.000Z' });
      const expired = history(grantCmd(), cmd('ExpireEntitlement', {}, after));
      spec.given(expired).when(cmd('AssignSeat', { userId: 'u' })).thenRejects('ENTITLEMENT.EXPIRED');
      spec.given(expired).when(cmd('SuspendEntitlement', { reason: 'x' })).thenRejects('ENTITLEMENT.EXPIRED');
      const renewed = history(grantCmd(), cmd('ExpireEntitlement', {}, after), cmd('RenewEntitlement', { periods: 1 }, after));
      expect(foldEntitlement(renewed)).toMatchObject({ status: 'active', validUntil: '2028-02-01T00:00:00.000Z' });
    });
    it('revokes from any live status', () => {
      const suspended = history(grantCmd(), cmd('SuspendEntitlement', { reason: 'unpaid' }));
      spec.given(suspended).when(cmd('RevokeEntitlement', { reason: 'chargeback' })).then((events) => {
        expect(events.map((e) => e.type)).toEqual(['EntitlementRevoked']);
        expect(entitlementDecider.evolve(foldEntitlement(suspended), events[0]!)).toMatchObject({ status: 'revoked', revokedReason: 'chargeback' });
      });
    });
  });
});
