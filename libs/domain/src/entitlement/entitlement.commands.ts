import type { PublishedCatalog } from '../catalog/catalog';
import type { Command } from '../shared/envelope';
import type { GrantOrigin } from './entitlement.events';

/**
 * Commands that reference the order or the customer they came from carry
 * `customerId` so that an order cannot touch another customer's entitlement.
 */
interface FromOrder {
  readonly orderId?: string;
  readonly customerId?: string;
}

export type GrantEntitlement = Command<
  'GrantEntitlement',
  {
    entitlementId: string;
    customerId: string;
    catalog: PublishedCatalog;
    sku: string;
    quantity: number;
    validFrom?: string;
    origin: GrantOrigin;
  }
>;
export type ChangePlan = Command<
  'ChangePlan',
  FromOrder & { catalog: PublishedCatalog; sku: string; quantity?: number; direction?: 'upgrade' | 'downgrade' }
>;
export type AttachAddOn = Command<'AttachAddOn', FromOrder & { catalog: PublishedCatalog; sku: string; quantity: number }>;
export type DetachAddOn = Command<'DetachAddOn', FromOrder & { sku: string; reason: string }>;
export type ChangeSeats = Command<'ChangeSeats', FromOrder & { seats: number }>;
export type RenewEntitlement = Command<'RenewEntitlement', FromOrder & { periods: number }>;
export type SuspendEntitlement = Command<'SuspendEntitlement', { reason: string }>;
export type ReinstateEntitlement = Command<'ReinstateEntitlement', { reason: string }>;
export type RevokeEntitlement = Command<'RevokeEntitlement', FromOrder & { reason: string }>;
export type ExpireEntitlement = Command<'ExpireEntitlement', Record<string, never>>;
export type AssignSeat = Command<'AssignSeat', { userId: string }>;
export type ReleaseSeat = Command<'ReleaseSeat', { userId: string }>;
export type ActivateDevice = Command<'ActivateDevice', { deviceId: string; userId?: string }>;
export type DeactivateDevice = Command<'DeactivateDevice', { deviceId: string }>;

export type EntitlementCommand =
  | GrantEntitlement
  | ChangePlan
  | AttachAddOn
  | DetachAddOn
  | ChangeSeats
  | RenewEntitlement
  | SuspendEntitlement
  | ReinstateEntitlement
  | RevokeEntitlement
  | ExpireEntitlement
  | AssignSeat
  | ReleaseSeat
  | ActivateDevice
  | DeactivateDevice;
