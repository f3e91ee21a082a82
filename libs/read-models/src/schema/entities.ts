import { EntitySchema, type EntitySchemaColumnOptions } from 'typeorm';
import type { AccessRequestRow, CheckpointRow, CustomerSummaryRow, DeviceActivationRow, DunningRow, EntitlementRow, OrderRow, SeatAssignmentRow } from './rows';

/**
 * TypeORM entities of the read models, the same on PostgreSQL and SQLite:
 * only portable column types (varchar, text, integer, bigint as number, JSON
 * as text). Migrations create the tables; `synchronize` is used by no code path
 * outside tests (a test checks that migrations and entities agree).
 */
const str = (name: string, length = 128, nullable = false): EntitySchemaColumnOptions => ({ name, type: 'varchar', length, nullable });
const int = (name: string, nullable = false): EntitySchemaColumnOptions => ({ name, type: 'integer', nullable });
const instant = (name: string, nullable = false): EntitySchemaColumnOptions => ({ name, type: 'varchar', length: 32, nullable });
const json = (name: string, nullable = false): EntitySchemaColumnOptions => ({ name, type: 'simple-json', nullable });
const text = (name: string, nullable = false): EntitySchemaColumnOptions => ({ name, type: 'text', nullable });
/** Global positions can exceed 2^31 (EventStoreDB commit positions); JS numbers hold them exactly up to 2^53. */
const position = (name: string): EntitySchemaColumnOptions => ({
  name,
  type: 'bigint',
  transformer: { to: (v: number) => v, from: (v: string | number | null) => (v === null ? v : Number(v)) },
});

export const EntitlementEntity = new EntitySchema<EntitlementRow>({
  name: 'EntitlementRow',
  tableName: 'rm_entitlements',
  columns: {
    entitlementId: { ...str('entitlement_id'), primary: true },
    customerId: str('customer_id'),
    productId: str('product_id', 64),
    planId: str('plan_id', 64),
    planSku: str('plan_sku', 64),
    tier: int('tier'),
    catalogVersion: int('catalog_version'),
    status: str('status', 16),
    statusReason: text('status_reason', true),
    seats: int('seats'),
    seatsAssigned: int('seats_assigned'),
    devicesActive: int('devices_active'),
    deviceLimit: int('device_limit', true),
    validFrom: instant('valid_from'),
    validUntil: instant('valid_until', true),
    graceEndsAt: instant('grace_ends_at', true),
    features: json('features'),
    originKind: str('origin_kind', 16),
    originRef: str('origin_ref', 128, true),
    grantedAt: instant('granted_at'),
    updatedAt: instant('updated_at'),
    state: json('state'),
    seatAssignedAt: json('seat_assigned_at'),
    lastRevision: int('last_revision'),
    lastPosition: position('last_position'),
  },
  indices: [
    { name: 'rm_entitlements_customer', columns: ['customerId', 'grantedAt', 'entitlementId'] },
    { name: 'rm_entitlements_status_granted', columns: ['status', 'grantedAt', 'entitlementId'] },
    { name: 'rm_entitlements_product', columns: ['productId', 'grantedAt', 'entitlementId'] },
    { name: 'rm_entitlements_valid_until', columns: ['validUntil', 'entitlementId'] },
    { name: 'rm_entitlements_granted', columns: ['grantedAt', 'entitlementId'] },
    { name: 'rm_entitlements_customer_valid_until', columns: ['customerId', 'validUntil', 'entitlementId'] },
    { name: 'rm_entitlements_grace', columns: ['graceEndsAt'] },
  ],
});

export const SeatAssignmentEntity = new EntitySchema<SeatAssignmentRow>({
  name: 'SeatAssignmentRow',
  tableName: 'rm_seat_assignments',
  columns: {
    entitlementId: { ...str('entitlement_id'), primary: true },
    userId: { ...str('user_id'), primary: true },
    customerId: str('customer_id'),
    assignedAt: instant('assigned_at'),
  },
  indices: [{ name: 'rm_seat_assignments_user', columns: ['userId'] }],
});

export const DeviceActivationEntity = new EntitySchema<DeviceActivationRow>({
  name: 'DeviceActivationRow',
  tableName: 'rm_device_activations',
  columns: {
    entitlementId: { ...str('entitlement_id'), primary: true },
    deviceId: { ...str('device_id'), primary: true },
    customerId: str('customer_id'),
    userId: str('user_id', 128, true),
    activatedAt: instant('activated_at'),
  },
  indices: [{ name: 'rm_device_activations_device', columns: ['deviceId'] }],
});

export const OrderEntity = new EntitySchema<OrderRow>({
  name: 'OrderRow',
  tableName: 'rm_orders',
  columns: {
    orderId: { ...str('order_id'), primary: true },
    customerId: str('customer_id'),
    status: str('status', 16),
    partial: int('partial'),
    effectiveAt: instant('effective_at'),
    receivedAt: instant('received_at'),
    catalogVersion: int('catalog_version'),
    lines: json('lines'),
    results: json('results', true),
    rejection: json('rejection', true),
    entitlementIds: json('entitlement_ids'),
    lastRevision: int('last_revision'),
    lastPosition: position('last_position'),
  },
  indices: [
    { name: 'rm_orders_customer', columns: ['customerId', 'receivedAt', 'orderId'] },
    { name: 'rm_orders_status', columns: ['status', 'receivedAt', 'orderId'] },
    { name: 'rm_orders_received', columns: ['receivedAt', 'orderId'] },
  ],
});

export const AccessRequestEntity = new EntitySchema<AccessRequestRow>({
  name: 'AccessRequestRow',
  tableName: 'rm_access_requests',
  columns: {
    requestId: { ...str('request_id'), primary: true },
    customerId: str('customer_id'),
    status: str('status', 16),
    sku: str('sku', 64),
    kind: str('kind', 16),
    quantity: int('quantity'),
    requestedBy: str('requested_by'),
    reason: text('reason'),
    entitlementId: str('entitlement_id', 128, true),
    requestedAt: instant('requested_at'),
    decidedBy: str('decided_by', 128, true),
    decidedAt: instant('decided_at', true),
    decisionNote: text('decision_note', true),
    fulfilledAt: instant('fulfilled_at', true),
    state: json('state'),
    lastRevision: int('last_revision'),
    lastPosition: position('last_position'),
  },
  indices: [
    { name: 'rm_access_requests_status', columns: ['status', 'requestedAt', 'requestId'] },
    { name: 'rm_access_requests_requested', columns: ['requestedAt', 'requestId'] },
    { name: 'rm_access_requests_customer_requested', columns: ['customerId', 'requestedAt', 'requestId'] },
    { name: 'rm_access_requests_customer_status', columns: ['customerId', 'status', 'requestedAt', 'requestId'] },
    { name: 'rm_access_requests_unfulfilled_decided', columns: ['status', 'decidedAt'], where: 'fulfilled_at IS NULL' },
  ],
});

export const CustomerSummaryEntity = new EntitySchema<CustomerSummaryRow>({
  name: 'CustomerSummaryRow',
  tableName: 'rm_customer_summaries',
  columns: {
    customerId: { ...str('customer_id'), primary: true },
    entitlements: int('entitlements'),
    active: int('active'),
    suspended: int('suspended'),
    expired: int('expired'),
    revoked: int('revoked'),
    seats: int('seats'),
    seatsAssigned: int('seats_assigned'),
    products: json('products'),
    lastPosition: position('last_position'),
  },
  // PostgreSQL only: customer_id in the "C" collation, for the prefix search (CustomerSearch1766100000000 creates it; SQLite's primary key serves it).
  indices: [{ name: 'rm_customer_summaries_customer_c', columns: ['customerId'], synchronize: false }],
});

export const DunningEntity = new EntitySchema<DunningRow>({
  name: 'DunningRow',
  tableName: 'rm_dunning',
  columns: {
    customerId: { ...str('customer_id'), primary: true },
    status: str('status', 16),
    suspendAt: instant('suspend_at', true),
    unpaidInvoices: int('unpaid_invoices'),
    suspendedEntitlements: int('suspended_entitlements'),
    updatedAt: instant('updated_at'),
    state: json('state'),
    lastRevision: int('last_revision'),
    lastPosition: position('last_position'),
  },
  indices: [
    { name: 'rm_dunning_due', columns: ['status', 'suspendAt'] },
    { name: 'rm_dunning_recovering', columns: ['status', 'updatedAt'] },
  ],
});

export const CheckpointEntity = new EntitySchema<CheckpointRow>({
  name: 'CheckpointRow',
  tableName: 'rm_checkpoints',
  columns: {
    subscriptionId: { ...str('subscription_id'), primary: true },
    position: position('position'),
    updatedAt: instant('updated_at'),
  },
});

export const READ_MODEL_ENTITIES = [
  EntitlementEntity,
  SeatAssignmentEntity,
  DeviceActivationEntity,
  OrderEntity,
  AccessRequestEntity,
  CustomerSummaryEntity,
  DunningEntity,
  CheckpointEntity,
] as const;

/** The projected tables (everything but checkpoints), rebuilt and swapped together. */
export const PROJECTED_ENTITIES = READ_MODEL_ENTITIES.filter((e) => e !== CheckpointEntity);
