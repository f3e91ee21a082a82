import { checkSubject, deviceLimit, effectiveFeatures, graceEndsAtOf, statusReasonOf, type CheckSubject, type Entitlement, type EntitlementEvent, type FeatureSet } from '@el/domain';
import { LEDGER_SOURCE } from './topics';

/**
 * ledger.entitlements.v1 — one message per entitlement change, key =
 * customerId, CloudEvents 1.0 structured JSON. `data.entitlement` is the
 * entitlement's full state after the change, so a consumer never needs the
 * history; `data.change` says what changed. This is a public contract: fields
 * are only ever added; a breaking change is a new topic (…v2).
 */
export interface EntitlementV1 {
  readonly entitlementId: string;
  readonly customerId: string;
  readonly productId: string;
  readonly planId: string;
  readonly planSku: string;
  readonly tier: number;
  readonly catalogVersion: number;
  readonly status: 'active' | 'suspended' | 'expired' | 'revoked';
  readonly statusReason: string | null;
  readonly seats: number;
  readonly assignedUsers: readonly string[];
  readonly devices: readonly { readonly deviceId: string; readonly userId: string | null }[];
  readonly deviceLimit: number | null;
  readonly validFrom: string;
  readonly validUntil: string | null;
  readonly graceDays: number;
  readonly graceEndsAt: string | null;
  readonly regions: readonly string[] | null;
  /** Plan and add-on grants merged: feature → {limit?, meter?: {period, cap, capType}}. */
  readonly features: FeatureSet;
  readonly addOns: readonly { readonly sku: string; readonly quantity: number }[];
  /** Stream revision of this state. */
  readonly revision: number;
}

export const ENTITLEMENT_EVENT_TYPES_V1 = {
  EntitlementGranted: 'io.ledger.entitlement.granted.v1',
  PlanChanged: 'io.ledger.entitlement.plan_changed.v1',
  AddOnAttached: 'io.ledger.entitlement.add_on_attached.v1',
  AddOnDetached: 'io.ledger.entitlement.add_on_detached.v1',
  SeatsChanged: 'io.ledger.entitlement.seats_changed.v1',
  SeatAssigned: 'io.ledger.entitlement.seat_assigned.v1',
  SeatReleased: 'io.ledger.entitlement.seat_released.v1',
  DeviceActivated: 'io.ledger.entitlement.device_activated.v1',
  DeviceDeactivated: 'io.ledger.entitlement.device_deactivated.v1',
  EntitlementRenewed: 'io.ledger.entitlement.renewed.v1',
  EntitlementSuspended: 'io.ledger.entitlement.suspended.v1',
  EntitlementReinstated: 'io.ledger.entitlement.reinstated.v1',
  EntitlementRevoked: 'io.ledger.entitlement.revoked.v1',
  EntitlementExpired: 'io.ledger.entitlement.expired.v1',
} as const satisfies Record<EntitlementEvent['type'], string>;

export type EntitlementEventTypeV1 = (typeof ENTITLEMENT_EVENT_TYPES_V1)[keyof typeof ENTITLEMENT_EVENT_TYPES_V1];

export interface EntitlementEventV1 {
  readonly specversion: '1.0';
  /** The stored event's id: a republished event keeps it, so consumers can drop duplicates. */
  readonly id: string;
  readonly type: EntitlementEventTypeV1;
  readonly source: string;
  /** The entitlement id. */
  readonly subject: string;
  /** When the change was recorded. */
  readonly time: string;
  readonly datacontenttype: 'application/json';
  /** Global position in the ledger: pass as minPosition to read-your-writes elsewhere. */
  readonly position: number;
  readonly customerid: string;
  readonly correlationid: string | null;
  readonly data: {
    readonly entitlement: EntitlementV1;
    /** What this event changed; shape depends on `type`. */
    readonly change: Readonly<Record<string, unknown>>;
    /** When the change takes effect in the business's timeline. */
    readonly effectiveAt: string;
    readonly actor: { readonly type: string; readonly id: string };
    readonly origin: string;
  };
}

export function entitlementV1(e: Entitlement, revision: number): EntitlementV1 {
  return {
    entitlementId: e.entitlementId,
    customerId: e.customerId,
    productId: e.productId,
    planId: e.planId,
    planSku: e.planSku,
    tier: e.tier,
    catalogVersion: e.catalogVersion,
    status: e.status,
    statusReason: statusReasonOf(e),
    seats: e.seats,
    assignedUsers: e.assignedUsers.toArray(),
    devices: Object.values(e.devices).map((d) => ({ deviceId: d.deviceId, userId: d.userId })),
    deviceLimit: deviceLimit(e),
    validFrom: e.validFrom,
    validUntil: e.validUntil,
    graceDays: e.graceDays,
    graceEndsAt: graceEndsAtOf(e),
    regions: e.regions ? [...e.regions] : null,
    features: effectiveFeatures(e),
    addOns: Object.values(e.addOns).map((a) => ({ sku: a.sku, quantity: a.quantity })),
    revision,
  };
}

/** What changed, per event type: explicit, so the internal event shape can evolve behind it. */
function changeOf(event: EntitlementEvent): Record<string, unknown> {
  const d = event.data;
  switch (event.type) {
    case 'EntitlementGranted':
      return { planSku: event.data.planSku, seats: event.data.seats, origin: event.data.origin };
    case 'PlanChanged':
      return { fromPlanId: event.data.fromPlanId, fromPlanSku: event.data.fromPlanSku, toPlanId: event.data.planId, toPlanSku: event.data.planSku, direction: event.data.direction, delta: event.data.delta };
    case 'AddOnAttached':
      return { sku: event.data.sku, quantity: event.data.quantity, totalQuantity: event.data.totalQuantity };
    case 'AddOnDetached':
      return { sku: event.data.sku, reason: event.data.reason };
    case 'SeatsChanged':
      return { from: event.data.from, to: event.data.to };
    case 'SeatAssigned':
    case 'SeatReleased':
      return { userId: event.data.userId };
    case 'DeviceActivated':
      return { deviceId: event.data.deviceId, userId: event.data.userId };
    case 'DeviceDeactivated':
      return { deviceId: event.data.deviceId };
    case 'EntitlementRenewed':
      return { previousValidUntil: event.data.previousValidUntil, validUntil: event.data.validUntil };
    case 'EntitlementSuspended':
    case 'EntitlementReinstated':
    case 'EntitlementRevoked':
      return { reason: event.data.reason };
    case 'EntitlementExpired':
      return { validUntil: event.data.validUntil, graceEndedAt: event.data.graceEndedAt };
    default: {
      const never: never = event;
      return { unknown: (never as { type: string }).type, data: d };
    }
  }
}

export interface StoredEntitlementEvent {
  readonly id: string;
  readonly position: number;
  readonly revision: number;
  readonly recordedAt: string;
  readonly event: EntitlementEvent;
}

/** Maps a stored entitlement event and the state it produced to its integration event. */
export function toEntitlementEventV1(stored: StoredEntitlementEvent, after: Entitlement): EntitlementEventV1 {
  const m = stored.event.metadata;
  return {
    specversion: '1.0',
    id: stored.id,
    type: ENTITLEMENT_EVENT_TYPES_V1[stored.event.type],
    source: LEDGER_SOURCE,
    subject: after.entitlementId,
    time: stored.recordedAt,
    datacontenttype: 'application/json',
    position: stored.position,
    customerid: after.customerId,
    correlationid: m.correlationId ?? null,
    data: {
      entitlement: entitlementV1(after, stored.revision),
      change: changeOf(stored.event),
      effectiveAt: m.effectiveAt,
      actor: { type: m.actor.type, id: m.actor.id },
      origin: m.source,
    },
  };
}

/** The decision function's view of a published entitlement (what enforcement and the SDK check against). */
export function subjectFromV1(e: EntitlementV1): CheckSubject {
  return checkSubject({ ...e, seatHolders: e.assignedUsers, devices: e.devices.map((d) => d.deviceId) });
}
