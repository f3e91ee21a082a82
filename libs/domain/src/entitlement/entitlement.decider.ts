import { addOnFeatures, resolveSku, type FeatureSet, type PlanSpec, type ProductSpec } from '../catalog/catalog';
import type { PublishedCatalog } from '../catalog/catalog';
import { assertNever, effectiveAt, envelope, type CommandMetadata } from '../shared/envelope';
import { reject } from '../shared/errors';
import { UPCASTERS, upcastersVersion } from '../upcasting/upcaster';
import { addDays, addTerm, isBefore, toMillis } from '../shared/time';
import type { EntitlementCommand } from './entitlement.commands';
import type { EntitlementEvent, FeatureDelta, LimitChange, PlanTerms } from './entitlement.events';
import {
  deviceLimit,
  evolveEntitlement,
  foldEntitlementFrom,
  initialEntitlementState,
  type Entitlement,
  type EntitlementState,
} from './entitlement.state';

type Ev<T extends EntitlementEvent['type']> = Extract<EntitlementEvent, { type: T }>;

function event<T extends EntitlementEvent['type']>(type: T, data: Ev<T>['data'], meta: CommandMetadata): Ev<T> {
  return { type, data, metadata: envelope(meta) } as Ev<T>;
}

/**
 * Decides which events a command produces against the entitlement's current
 * state, or rejects it with a stable code. Pure: no clock, no ids, no I/O.
 */
export function decideEntitlement(command: EntitlementCommand, state: EntitlementState): EntitlementEvent[] {
  const meta = command.metadata;
  if (command.type === 'GrantEntitlement') {
    if (state.status !== 'none') {
      reject('ENTITLEMENT.ALREADY_EXISTS', `entitlement ${command.data.entitlementId} already exists`, {
        entitlementId: command.data.entitlementId,
      });
    }
    const d = command.data;
    const { product, plan } = requirePlan(d.catalog, d.sku);
    requirePositiveInt(d.quantity, 'quantity');
    const validFrom = d.validFrom ?? effectiveAt(meta);
    return [
      event(
        'EntitlementGranted',
        {
          entitlementId: d.entitlementId,
          customerId: d.customerId,
          ...planTerms(product, plan, d.catalog.version),
          seats: d.quantity * plan.seatsPerUnit,
          validFrom,
          validUntil: plan.term ? addTerm(validFrom, plan.term) : null,
          origin: d.origin,
        },
        meta,
      ),
    ];
  }

  if (state.status === 'none') reject('ENTITLEMENT.NOT_FOUND', 'entitlement does not exist');
  if (state.status === 'revoked') {
    reject('ENTITLEMENT.ALREADY_REVOKED', `entitlement ${state.entitlementId} was revoked and cannot change`, {
      entitlementId: state.entitlementId,
      revokedAt: state.revokedAt,
    });
  }
  const e = state;
  const id = e.entitlementId;
  if ('customerId' in command.data && command.data.customerId !== undefined && command.data.customerId !== e.customerId) {
    reject('ENTITLEMENT.CUSTOMER_MISMATCH', `entitlement ${id} belongs to another customer`, { entitlementId: id });
  }

  switch (command.type) {
    case 'ChangePlan': {
      requireNotExpired(e);
      const d = command.data;
      const { product, plan } = requirePlan(d.catalog, d.sku);
      if (product.id !== e.productId) {
        reject('PLAN.PRODUCT_MISMATCH', `plan ${d.sku} belongs to product ${product.id}, not ${e.productId}`, {
          sku: d.sku,
          productId: e.productId,
        });
      }
      if (plan.id === e.planId) reject('PLAN.SAME_PLAN', `entitlement ${id} is already on plan ${plan.id}`, { planId: plan.id });
      const direction = plan.tier > e.tier ? 'upgrade' : 'downgrade';
      if (d.direction === 'upgrade' && direction !== 'upgrade') {
        reject('PLAN.NOT_AN_UPGRADE', `${plan.id} (tier ${plan.tier}) is not above ${e.planId} (tier ${e.tier})`, {
          from: e.planId,
          to: plan.id,
        });
      }
      if (d.direction === 'downgrade' && direction !== 'downgrade') {
        reject('PLAN.NOT_A_DOWNGRADE', `${plan.id} (tier ${plan.tier}) is not below ${e.planId} (tier ${e.tier})`, {
          from: e.planId,
          to: plan.id,
        });
      }
      if (d.quantity !== undefined) requirePositiveInt(d.quantity, 'quantity');
      const seats = d.quantity !== undefined ? d.quantity * plan.seatsPerUnit : e.seats;
      requireSeatsCoverAssignments(e, seats);
      requireDevicesWithinLimit(e, seats, plan.maxDevicesPerSeat);
      return [
        event(
          'PlanChanged',
          {
            entitlementId: id,
            ...planTerms(product, plan, d.catalog.version),
            fromPlanId: e.planId,
            fromPlanSku: e.planSku,
            direction,
            seats,
            delta: featureDelta(e.features, plan.features),
            ...(d.orderId ? { orderId: d.orderId } : {}),
          },
          meta,
        ),
      ];
    }
    case 'AttachAddOn': {
      requireNotExpired(e);
      const d = command.data;
      requirePositiveInt(d.quantity, 'quantity');
      const resolved = resolveSku(d.catalog.catalog, d.sku);
      if (!resolved) reject('CATALOG.UNKNOWN_SKU', `SKU ${d.sku} is not in catalog version ${d.catalog.version}`, { sku: d.sku });
      if (resolved.kind !== 'add_on') reject('CATALOG.NOT_AN_ADD_ON', `SKU ${d.sku} is a plan, not an add-on`, { sku: d.sku });
      if (resolved.addOn.productId !== e.productId) {
        reject('ADD_ON.PRODUCT_MISMATCH', `add-on ${d.sku} is for product ${resolved.addOn.productId}, not ${e.productId}`, {
          sku: d.sku,
          productId: e.productId,
        });
      }
      const totalQuantity = (e.addOns[d.sku]?.quantity ?? 0) + d.quantity;
      return [
        event(
          'AddOnAttached',
          {
            entitlementId: id,
            sku: d.sku,
            addOnId: resolved.addOn.id,
            name: resolved.addOn.name,
            quantity: d.quantity,
            totalQuantity,
            features: addOnFeatures(resolved.addOn, totalQuantity, e.features),
            catalogVersion: d.catalog.version,
            ...(d.orderId ? { orderId: d.orderId } : {}),
          },
          meta,
        ),
      ];
    }
    case 'DetachAddOn': {
      if (!e.addOns[command.data.sku]) {
        reject('ADD_ON.NOT_ATTACHED', `add-on ${command.data.sku} is not attached to ${id}`, { sku: command.data.sku });
      }
      return [event('AddOnDetached', { entitlementId: id, sku: command.data.sku, reason: command.data.reason }, meta)];
    }
    case 'ChangeSeats': {
      requireNotExpired(e);
      const seats = command.data.seats;
      if (!Number.isInteger(seats) || seats < 1) reject('SEATS.INVALID_COUNT', `seats must be an integer >= 1, got ${seats}`, { seats });
      if (seats === e.seats) return [];
      requireSeatsCoverAssignments(e, seats);
      requireDevicesWithinLimit(e, seats, e.maxDevicesPerSeat);
      return [
        event(
          'SeatsChanged',
          { entitlementId: id, from: e.seats, to: seats, ...(command.data.orderId ? { orderId: command.data.orderId } : {}) },
          meta,
        ),
      ];
    }
    case 'RenewEntitlement': {
      if (e.term === null || e.validUntil === null) {
        reject('ENTITLEMENT.PERPETUAL', `entitlement ${id} is perpetual and has nothing to renew`, { entitlementId: id });
      }
      requirePositiveInt(command.data.periods, 'periods');
      const at = effectiveAt(meta);
      // Renewing before the grace period ends continues the term without a gap;
      // renewing after it starts a new term on the renewal date.
      const graceEnds = addDays(e.validUntil, e.graceDays);
      const start = isBefore(at, graceEnds) ? e.validUntil : at;
      return [
        event(
          'EntitlementRenewed',
          {
            entitlementId: id,
            previousValidUntil: e.validUntil,
            validFrom: start,
            validUntil: addTerm(start, e.term, command.data.periods),
            ...(command.data.orderId ? { orderId: command.data.orderId } : {}),
          },
          meta,
        ),
      ];
    }
    case 'SuspendEntitlement': {
      if (e.status === 'suspended') {
        reject('ENTITLEMENT.ALREADY_SUSPENDED', `entitlement ${id} is already suspended`, { suspendedAt: e.suspendedAt });
      }
      requireNotExpired(e);
      return [event('EntitlementSuspended', { entitlementId: id, reason: command.data.reason }, meta)];
    }
    case 'ReinstateEntitlement': {
      if (e.status !== 'suspended') reject('ENTITLEMENT.NOT_SUSPENDED', `entitlement ${id} is ${e.status}, not suspended`, { status: e.status });
      return [event('EntitlementReinstated', { entitlementId: id, reason: command.data.reason }, meta)];
    }
    case 'RevokeEntitlement':
      return [
        event(
          'EntitlementRevoked',
          { entitlementId: id, reason: command.data.reason, ...(command.data.orderId ? { orderId: command.data.orderId } : {}) },
          meta,
        ),
      ];
    case 'ExpireEntitlement': {
      if (e.status === 'expired') return [];
      if (e.validUntil === null) reject('ENTITLEMENT.PERPETUAL', `entitlement ${id} is perpetual and never expires`, { entitlementId: id });
      const graceEndedAt = addDays(e.validUntil, e.graceDays);
      if (toMillis(meta.now) < toMillis(graceEndedAt)) {
        reject('ENTITLEMENT.NOT_DUE_TO_EXPIRE', `entitlement ${id} is valid (with grace) until ${graceEndedAt}`, { graceEndsAt: graceEndedAt });
      }
      return [event('EntitlementExpired', { entitlementId: id, validUntil: e.validUntil, graceEndedAt }, meta)];
    }
    case 'AssignSeat': {
      requireNotExpired(e);
      const userId = command.data.userId;
      if (e.assignedUsers.has(userId)) reject('SEAT.ALREADY_ASSIGNED', `user ${userId} already holds a seat on ${id}`, { userId });
      if (e.assignedUsers.size >= e.seats) {
        reject('SEAT.NONE_AVAILABLE', `all ${e.seats} seats of ${id} are assigned; release one or buy more`, {
          seats: e.seats,
          assigned: e.assignedUsers.size,
        });
      }
      return [event('SeatAssigned', { entitlementId: id, userId }, meta)];
    }
    case 'ReleaseSeat': {
      const userId = command.data.userId;
      if (!e.assignedUsers.has(userId)) reject('SEAT.NOT_ASSIGNED', `user ${userId} holds no seat on ${id}`, { userId });
      // A released user's devices go with the seat.
      const devices = Object.values(e.devices).filter((d) => d.userId === userId);
      return [
        event('SeatReleased', { entitlementId: id, userId }, meta),
        ...devices.map((d) => event('DeviceDeactivated', { entitlementId: id, deviceId: d.deviceId }, meta)),
      ];
    }
    case 'ActivateDevice': {
      requireNotExpired(e);
      const { deviceId, userId } = command.data;
      if (e.devices[deviceId]) reject('DEVICE.ALREADY_ACTIVE', `device ${deviceId} is already active on ${id}`, { deviceId });
      if (userId !== undefined && !e.assignedUsers.has(userId)) {
        reject('SEAT.NOT_ASSIGNED', `user ${userId} holds no seat on ${id}; assign one first`, { userId });
      }
      const limit = deviceLimit(e);
      const active = Object.keys(e.devices).length;
      if (limit !== null && active >= limit) {
        reject('DEVICE.LIMIT_REACHED', `all ${limit} device activations of ${id} are in use`, { limit, active });
      }
      if (userId !== undefined && e.maxDevicesPerSeat !== null) {
        const mine = Object.values(e.devices).filter((d) => d.userId === userId).length;
        if (mine >= e.maxDevicesPerSeat) {
          reject('DEVICE.LIMIT_REACHED', `user ${userId} already has ${mine} of ${e.maxDevicesPerSeat} devices`, {
            limit: e.maxDevicesPerSeat,
            active: mine,
            userId,
          });
        }
      }
      return [event('DeviceActivated', { entitlementId: id, deviceId, userId: userId ?? null }, meta)];
    }
    case 'DeactivateDevice': {
      if (!e.devices[command.data.deviceId]) {
        reject('DEVICE.NOT_ACTIVE', `device ${command.data.deviceId} is not active on ${id}`, { deviceId: command.data.deviceId });
      }
      return [event('DeviceDeactivated', { entitlementId: id, deviceId: command.data.deviceId }, meta)];
    }
    default:
      return assertNever(command, 'entitlement command');
  }
}

export const entitlementDecider = {
  decide: decideEntitlement,
  evolve: evolveEntitlement,
  initialState: (): EntitlementState => initialEntitlementState,
};

function requirePlan(catalog: PublishedCatalog, sku: string): { product: ProductSpec; plan: PlanSpec } {
  const resolved = resolveSku(catalog.catalog, sku);
  if (!resolved) reject('CATALOG.UNKNOWN_SKU', `SKU ${sku} is not in catalog version ${catalog.version}`, { sku });
  if (resolved.kind !== 'plan') reject('CATALOG.NOT_A_PLAN', `SKU ${sku} is an add-on, not a plan`, { sku });
  return { product: resolved.product, plan: resolved.plan };
}

function requirePositiveInt(value: number, field: string): void {
  if (!Number.isInteger(value) || value < 1) {
    reject('QUANTITY.INVALID', `${field} must be an integer >= 1, got ${value}`, { [field]: value });
  }
}

function requireNotExpired(e: Entitlement): void {
  if (e.status === 'expired') {
    reject('ENTITLEMENT.EXPIRED', `entitlement ${e.entitlementId} has expired; renew it first`, { expiredAt: e.expiredAt });
  }
}

function requireSeatsCoverAssignments(e: Entitlement, seats: number): void {
  const assigned = e.assignedUsers.size;
  if (seats < assigned) {
    reject(
      'SEATS.BELOW_ASSIGNED',
      `${assigned} seats are assigned but only ${seats} would remain: release ${assigned - seats} first`,
      { assigned, requested: seats, release: assigned - seats },
    );
  }
}

/** Both device limits after a change of seats or plan: in total, and per seat holder. */
function requireDevicesWithinLimit(e: Entitlement, seats: number, maxDevicesPerSeat: number | null): void {
  const limit = deviceLimit({ seats, maxDevicesPerSeat });
  const active = Object.keys(e.devices).length;
  if (limit !== null && active > limit) {
    reject(
      'DEVICE.ABOVE_LIMIT',
      `${active} devices are active but only ${limit} would be allowed: deactivate ${active - limit} first`,
      { active, limit, deactivate: active - limit },
    );
  }
  if (maxDevicesPerSeat === null) return;
  // A plan with fewer devices per seat must not leave one user above it (the total may still fit).
  const perUser = new Map<string, number>();
  for (const d of Object.values(e.devices)) if (d.userId !== null) perUser.set(d.userId, (perUser.get(d.userId) ?? 0) + 1);
  if (![...perUser].some(([userId, n]) => n > maxDevicesPerSeat && e.assignedUsers.has(userId))) return;
  for (const userId of e.assignedUsers) {
    const theirs = perUser.get(userId) ?? 0;
    if (theirs > maxDevicesPerSeat) {
      reject(
        'DEVICE.ABOVE_LIMIT',
        `user ${userId} has ${theirs} devices active but only ${maxDevicesPerSeat} per seat would be allowed: deactivate ${theirs - maxDevicesPerSeat} of theirs first`,
        { userId, active: theirs, limit: maxDevicesPerSeat, deactivate: theirs - maxDevicesPerSeat },
      );
    }
  }
}

export function planTerms(product: ProductSpec, plan: PlanSpec, catalogVersion: number): PlanTerms {
  return {
    productId: product.id,
    planId: plan.id,
    planSku: plan.sku,
    tier: plan.tier,
    catalogVersion,
    features: plan.features,
    term: plan.term,
    graceDays: plan.graceDays,
    seatsPerUnit: plan.seatsPerUnit,
    maxDevicesPerSeat: plan.maxDevicesPerSeat,
    regions: plan.regions,
  };
}

function quantityOf(grant: FeatureSet[string] | undefined): number | null {
  if (!grant) return null;
  return grant.meter?.cap ?? grant.limit ?? null;
}

export function featureDelta(from: FeatureSet, to: FeatureSet): FeatureDelta {
  const added = Object.keys(to).filter((f) => !(f in from)).sort();
  const removed = Object.keys(from).filter((f) => !(f in to)).sort();
  const limitsChanged: Record<string, LimitChange> = {};
  for (const f of Object.keys(to)) {
    if (!(f in from)) continue;
    const a = quantityOf(from[f]);
    const b = quantityOf(to[f]);
    if (a !== b) limitsChanged[f] = { from: a, to: b };
  }
  return { added, removed, limitsChanged };
}

/** Folds a stream's events into state. */
/**
 * The version of the entitlement fold: a snapshot made by another version is not used. Raise
 * ENTITLEMENT_EVOLVE_VERSION whenever evolveEntitlement changes what it makes of an event; the
 * upcasters in force (the shape events are read in) are part of it by themselves.
 */
export const ENTITLEMENT_EVOLVE_VERSION = 1;
export const ENTITLEMENT_FOLD_VERSION = `entitlement-${ENTITLEMENT_EVOLVE_VERSION}+${upcastersVersion(UPCASTERS)}`;

export function foldEntitlement(events: readonly EntitlementEvent[]): EntitlementState {
  return foldEntitlementFrom(initialEntitlementState, events);
}
