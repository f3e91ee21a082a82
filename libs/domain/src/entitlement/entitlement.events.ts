import type { DomainEvent } from '../shared/envelope';
import type { FeatureSet } from '../catalog/catalog';
import type { Term } from '../shared/time';

/** Where an entitlement came from: an ERP order line, an operator, or an approved access request. */
export type GrantOrigin =
  | { readonly kind: 'order'; readonly orderId: string; readonly lineId: string }
  | { readonly kind: 'manual' }
  | { readonly kind: 'access_request'; readonly requestId: string };

export interface PlanTerms {
  readonly productId: string;
  readonly planId: string;
  readonly planSku: string;
  readonly tier: number;
  readonly catalogVersion: number;
  readonly features: FeatureSet;
  readonly term: Term | null;
  readonly graceDays: number;
  readonly seatsPerUnit: number;
  readonly maxDevicesPerSeat: number | null;
  readonly regions: readonly string[] | null;
}

export interface LimitChange {
  readonly from: number | null;
  readonly to: number | null;
}

/** What a plan change did to the feature set, so consumers need not diff it themselves. */
export interface FeatureDelta {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly limitsChanged: Readonly<Record<string, LimitChange>>;
}

export type EntitlementGranted = DomainEvent<
  'EntitlementGranted',
  PlanTerms & {
    entitlementId: string;
    customerId: string;
    seats: number;
    validFrom: string;
    validUntil: string | null;
    origin: GrantOrigin;
  }
>;
export type PlanChanged = DomainEvent<
  'PlanChanged',
  PlanTerms & {
    entitlementId: string;
    fromPlanId: string;
    fromPlanSku: string;
    direction: 'upgrade' | 'downgrade';
    seats: number;
    delta: FeatureDelta;
    orderId?: string;
  }
>;
export type AddOnAttached = DomainEvent<
  'AddOnAttached',
  { entitlementId: string; sku: string; addOnId: string; name: string; quantity: number; totalQuantity: number; features: FeatureSet; catalogVersion: number; orderId?: string }
>;
export type AddOnDetached = DomainEvent<'AddOnDetached', { entitlementId: string; sku: string; reason: string }>;
export type SeatsChanged = DomainEvent<'SeatsChanged', { entitlementId: string; from: number; to: number; orderId?: string }>;
export type SeatAssigned = DomainEvent<'SeatAssigned', { entitlementId: string; userId: string }>;
export type SeatReleased = DomainEvent<'SeatReleased', { entitlementId: string; userId: string }>;
export type DeviceActivated = DomainEvent<'DeviceActivated', { entitlementId: string; deviceId: string; userId: string | null }>;
export type DeviceDeactivated = DomainEvent<'DeviceDeactivated', { entitlementId: string; deviceId: string }>;
export type EntitlementRenewed = DomainEvent<
  'EntitlementRenewed',
  { entitlementId: string; previousValidUntil: string | null; validFrom: string; validUntil: string; orderId?: string }
>;
export type EntitlementSuspended = DomainEvent<'EntitlementSuspended', { entitlementId: string; reason: string }>;
export type EntitlementReinstated = DomainEvent<'EntitlementReinstated', { entitlementId: string; reason: string }>;
export type EntitlementRevoked = DomainEvent<'EntitlementRevoked', { entitlementId: string; reason: string; orderId?: string }>;
export type EntitlementExpired = DomainEvent<'EntitlementExpired', { entitlementId: string; validUntil: string; graceEndedAt: string }>;

export type EntitlementEvent =
  | EntitlementGranted
  | PlanChanged
  | AddOnAttached
  | AddOnDetached
  | SeatsChanged
  | SeatAssigned
  | SeatReleased
  | DeviceActivated
  | DeviceDeactivated
  | EntitlementRenewed
  | EntitlementSuspended
  | EntitlementReinstated
  | EntitlementRevoked
  | EntitlementExpired;

export type EntitlementEventType = EntitlementEvent['type'];

export const ENTITLEMENT_EVENT_TYPES: readonly EntitlementEventType[] = [
  'EntitlementGranted',
  'PlanChanged',
  'AddOnAttached',
  'AddOnDetached',
  'SeatsChanged',
  'SeatAssigned',
  'SeatReleased',
  'DeviceActivated',
  'DeviceDeactivated',
  'EntitlementRenewed',
  'EntitlementSuspended',
  'EntitlementReinstated',
  'EntitlementRevoked',
  'EntitlementExpired',
];

export function isEntitlementEvent(event: { type: string }): event is EntitlementEvent {
  return (ENTITLEMENT_EVENT_TYPES as readonly string[]).includes(event.type);
}

export const entitlementStream = (entitlementId: string): string => `entitlement-${entitlementId}`;
