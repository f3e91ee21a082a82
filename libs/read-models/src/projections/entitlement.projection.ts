import {
  deviceLimit,
  effectiveFeatures,
  ENTITLEMENT_EVENT_TYPES,
  evolveEntitlement,
  graceEndsAtOf,
  initialEntitlementState,
  reviveEntitlementState,
  statusReasonOf,
  type Entitlement,
  type SeatHolders,
  type EntitlementEvent,
} from '@el/domain';
import { EntitlementEntity } from '../schema/entities';
import type { CustomerSummaryRow, DeviceActivationRow, EntitlementRow, SeatAssignmentRow } from '../schema/rows';
import type { Projection } from './projection';

/** Entitlements: current state by id, evolved with the domain's own `evolve`. */
export const entitlementProjection: Projection<EntitlementRow> = {
  name: 'entitlements',
  entity: EntitlementEntity,
  handles: ENTITLEMENT_EVENT_TYPES,
  keyOf: (e) => (e.data as { entitlementId: string }).entitlementId,
  evolve(row, event) {
    const state = evolveEntitlement(row ? reviveEntitlementState(row.state) : initialEntitlementState, event as unknown as EntitlementEvent);
    if (state.status === 'none') return row;
    const at = event.metadata.effectiveAt ?? event.metadata.recordedAt ?? '';
    const seatAssignedAt = { ...(row?.seatAssignedAt ?? {}) };
    if (event.type === 'SeatAssigned') seatAssignedAt[event.data.userId] = at;
    if (event.type === 'SeatReleased') delete seatAssignedAt[event.data.userId];
    return entitlementRow(state, seatAssignedAt, event.revision, event.position);
  },
};

export function entitlementRow(e: Entitlement, seatAssignedAt: Record<string, string>, revision: number, position: number): EntitlementRow {
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
    seatsAssigned: e.assignedUsers.size,
    devicesActive: Object.keys(e.devices).length,
    deviceLimit: deviceLimit(e),
    validFrom: e.validFrom,
    validUntil: e.validUntil,
    graceEndsAt: graceEndsAtOf(e),
    features: effectiveFeatures(e),
    originKind: e.origin.kind,
    originRef: e.origin.kind === 'order' ? e.origin.orderId : e.origin.kind === 'access_request' ? e.origin.requestId : null,
    grantedAt: e.grantedAt,
    updatedAt: e.updatedAt,
    state: e,
    seatAssignedAt,
    lastRevision: revision,
    lastPosition: position,
  };
}

/** Seat assignments of one entitlement, derived from its row. */
export function seatAssignmentsOf(row: EntitlementRow): SeatAssignmentRow[] {
  return usersOf(row).map((userId) => ({
    entitlementId: row.entitlementId,
    userId,
    customerId: row.customerId,
    assignedAt: row.seatAssignedAt[userId] ?? row.updatedAt,
  }));
}

/** Active devices of one entitlement, derived from its row. */
export function deviceActivationsOf(row: EntitlementRow): DeviceActivationRow[] {
  return Object.values(row.state.devices).map((d) => ({
    entitlementId: row.entitlementId,
    deviceId: d.deviceId,
    customerId: row.customerId,
    userId: d.userId,
    activatedAt: d.activatedAt,
  }));
}

/** Did the seats or devices change between two versions of a row? */
export function childrenChanged(before: EntitlementRow | null, after: EntitlementRow | null): boolean {
  if (!before || !after) return before !== after;
  const [a, b] = [before.state, after.state];
  return usersOf(before).join('\u0000') !== usersOf(after).join('\u0000') || Object.keys(a.devices).sort().join('\u0000') !== Object.keys(b.devices).sort().join('\u0000');
}

/** The row's seat holders in assignment order, whether its state is the one evolved or read back from JSON. */
function usersOf(row: EntitlementRow): readonly string[] {
  const users = row.state.assignedUsers;
  return Array.isArray(users) ? users : (users as SeatHolders).toArray();
}

/** A customer's summary from all of their entitlement rows. */
export function customerSummary(
  customerId: string,
  rows: readonly Pick<EntitlementRow, 'status' | 'seats' | 'seatsAssigned' | 'productId' | 'lastPosition'>[],
): CustomerSummaryRow {
  const count = (s: EntitlementRow['status']) => rows.filter((r) => r.status === s).length;
  const live = rows.filter((r) => r.status === 'active' || r.status === 'suspended');
  return {
    customerId,
    entitlements: rows.length,
    active: count('active'),
    suspended: count('suspended'),
    expired: count('expired'),
    revoked: count('revoked'),
    seats: live.reduce((n, r) => n + r.seats, 0),
    seatsAssigned: live.reduce((n, r) => n + r.seatsAssigned, 0),
    products: [...new Set(live.map((r) => r.productId))].sort(),
    lastPosition: rows.reduce((p, r) => Math.max(p, r.lastPosition), 0),
  };
}

