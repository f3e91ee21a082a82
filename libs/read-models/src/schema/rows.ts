import type { AccessRequestState, DunningState, DunningStatus, Entitlement, FeatureSet, StoredEntitlement, GrantOrigin, OrderLine, OrderLineResult, OrderRejection } from '@el/domain';

/**
 * Row shapes of the read models. Instants are ISO-8601 UTC strings (they sort
 * correctly as text on both PostgreSQL and SQLite); positions are global event
 * store positions; `lastRevision` is the stream revision last applied, which
 * makes replaying an event that was already applied a no-op.
 */
export interface EntitlementRow {
  entitlementId: string;
  customerId: string;
  productId: string;
  planId: string;
  planSku: string;
  tier: number;
  catalogVersion: number;
  status: Entitlement['status'];
  statusReason: string | null;
  seats: number;
  seatsAssigned: number;
  devicesActive: number;
  deviceLimit: number | null;
  validFrom: string;
  validUntil: string | null;
  graceEndsAt: string | null;
  /** Effective features and limits: the plan's grants plus every add-on's, e.g. {api_calls: {meter: {cap, period, capType}}}. */
  features: FeatureSet;
  /** order, manual or access_request; the full origin (and add-ons, regions) is in `state`. */
  originKind: GrantOrigin['kind'];
  /** orderId or requestId of the origin. */
  originRef: string | null;
  grantedAt: string;
  updatedAt: string;
  /**
   * The domain state the row was built from (what `evolve` continues from). Read from the database
   * it is JSON (its assigned users an array): `reviveEntitlementState` makes it a state again.
   */
  state: StoredEntitlement;
  /** When each seat holder got their seat (the domain keeps only who). */
  seatAssignedAt: Record<string, string>;
  lastRevision: number;
  lastPosition: number;
}

export interface SeatAssignmentRow {
  entitlementId: string;
  userId: string;
  customerId: string;
  assignedAt: string;
}

export interface DeviceActivationRow {
  entitlementId: string;
  deviceId: string;
  customerId: string;
  userId: string | null;
  activatedAt: string;
}

export interface OrderRow {
  orderId: string;
  customerId: string;
  status: 'received' | 'fulfilled' | 'rejected';
  partial: number;
  effectiveAt: string;
  receivedAt: string;
  catalogVersion: number;
  lines: OrderLine[];
  results: OrderLineResult[] | null;
  rejection: OrderRejection | null;
  entitlementIds: string[];
  lastRevision: number;
  lastPosition: number;
}

export interface AccessRequestRow {
  requestId: string;
  customerId: string;
  status: 'pending' | 'approved' | 'rejected';
  sku: string;
  kind: 'plan' | 'add_on';
  quantity: number;
  requestedBy: string;
  reason: string;
  entitlementId: string | null;
  requestedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionNote: string | null;
  /** When an approval was carried out on the entitlement (null while pending, or for a rejection). */
  fulfilledAt: string | null;
  state: Exclude<AccessRequestState, { status: 'none' }>;
  lastRevision: number;
  lastPosition: number;
}

export interface CustomerSummaryRow {
  customerId: string;
  entitlements: number;
  active: number;
  suspended: number;
  expired: number;
  revoked: number;
  seats: number;
  seatsAssigned: number;
  products: string[];
  lastPosition: number;
}

/** A customer's dunning: unpaid invoices, and the suspension due or made because of them. */
export interface DunningRow {
  customerId: string;
  status: DunningStatus;
  /** When the open case suspends the customer's entitlements (set while past due only): what the dunning sweeper looks for. */
  suspendAt: string | null;
  unpaidInvoices: number;
  /** Entitlements dunning holds suspended. */
  suspendedEntitlements: number;
  updatedAt: string;
  state: DunningState;
  lastRevision: number;
  lastPosition: number;
}

export interface CheckpointRow {
  subscriptionId: string;
  position: number;
  updatedAt: string;
}
