import { mergeFeatures, type FeatureSet } from '../catalog/catalog';
import { assertNever } from '../shared/envelope';
import { addDays } from '../shared/time';
import type { EntitlementEvent, GrantOrigin, PlanTerms } from './entitlement.events';

export interface AttachedAddOn {
  readonly sku: string;
  readonly addOnId: string;
  readonly name: string;
  readonly quantity: number;
  /** Grants already scaled by `quantity`. */
  readonly features: FeatureSet;
}

export interface ActiveDevice {
  readonly deviceId: string;
  readonly userId: string | null;
  readonly activatedAt: string;
}

export interface EntitlementTerms extends PlanTerms {
  readonly entitlementId: string;
  readonly customerId: string;
  readonly seats: number;
  readonly validFrom: string;
  readonly validUntil: string | null;
  readonly origin: GrantOrigin;
  readonly addOns: Readonly<Record<string, AttachedAddOn>>;
  readonly assignedUsers: readonly string[];
  readonly devices: Readonly<Record<string, ActiveDevice>>;
  readonly grantedAt: string;
  readonly updatedAt: string;
}

export type Entitlement =
  | (EntitlementTerms & { readonly status: 'active' })
  | (EntitlementTerms & { readonly status: 'suspended'; readonly suspendedReason: string; readonly suspendedAt: string })
  | (EntitlementTerms & { readonly status: 'expired'; readonly expiredAt: string })
  | (EntitlementTerms & { readonly status: 'revoked'; readonly revokedReason: string; readonly revokedAt: string });

export type EntitlementStatus = Entitlement['status'];
export type EntitlementState = { readonly status: 'none' } | Entitlement;

export const initialEntitlementState: EntitlementState = { status: 'none' };

/** Plan grants plus every attached add-on's grants. */
export function effectiveFeatures(e: EntitlementTerms): FeatureSet {
  return mergeFeatures(e.features, ...Object.values(e.addOns).map((a) => a.features));
}

/** `null` when the plan does not limit devices. */
export function deviceLimit(e: Pick<EntitlementTerms, 'maxDevicesPerSeat' | 'seats'>): number | null {
  return e.maxDevicesPerSeat === null ? null : e.maxDevicesPerSeat * e.seats;
}

/** Why it is suspended or revoked; null in any other status. */
export function statusReasonOf(e: Entitlement): string | null {
  return e.status === 'suspended' ? e.suspendedReason : e.status === 'revoked' ? e.revokedReason : null;
}

/** When the grace period after validUntil ends; null for perpetual entitlements. */
export function graceEndsAtOf(e: Pick<EntitlementTerms, 'validUntil' | 'graceDays'>): string | null {
  return e.validUntil ? addDays(e.validUntil, e.graceDays) : null;
}

function terms(e: Entitlement): EntitlementTerms {
  // Strip status-specific fields so a status change starts from clean terms.
  const { status: _s, ...rest } = e as Entitlement & Record<string, unknown>;
  delete rest['suspendedReason'];
  delete rest['suspendedAt'];
  delete rest['expiredAt'];
  delete rest['revokedReason'];
  delete rest['revokedAt'];
  return rest as unknown as EntitlementTerms;
}

/** The entitlement once its validity and grace have run out at `at`: what `EntitlementExpired` records. */
export function expired(e: Entitlement, at: string): Entitlement {
  return { ...terms(e), updatedAt: at, status: 'expired', expiredAt: at };
}

function withTerms(state: Entitlement, patch: Partial<EntitlementTerms>): Entitlement {
  return { ...state, ...patch } as Entitlement;
}

export function evolveEntitlement(state: EntitlementState, event: EntitlementEvent): EntitlementState {
  const at = event.metadata.effectiveAt;
  if (event.type === 'EntitlementGranted') {
    const { entitlementId, customerId, seats, validFrom, validUntil, origin, ...plan } = event.data;
    return {
      status: 'active',
      ...plan,
      entitlementId,
      customerId,
      seats,
      validFrom,
      validUntil,
      origin,
      addOns: {},
      assignedUsers: [],
      devices: {},
      grantedAt: at,
      updatedAt: at,
    };
  }
  if (state.status === 'none') return state; // events for an unknown entitlement cannot change anything
  switch (event.type) {
    case 'PlanChanged': {
      const d = event.data;
      // Add-on grants that depended on the old plan's meter settings keep their scaled values.
      return withTerms(state, {
        productId: d.productId,
        planId: d.planId,
        planSku: d.planSku,
        tier: d.tier,
        catalogVersion: d.catalogVersion,
        features: d.features,
        term: d.term,
        graceDays: d.graceDays,
        seatsPerUnit: d.seatsPerUnit,
        maxDevicesPerSeat: d.maxDevicesPerSeat,
        regions: d.regions,
        seats: d.seats,
        updatedAt: at,
      });
    }
    case 'AddOnAttached': {
      const d = event.data;
      return withTerms(state, {
        addOns: {
          ...state.addOns,
          [d.sku]: { sku: d.sku, addOnId: d.addOnId, name: d.name, quantity: d.totalQuantity, features: d.features },
        },
        updatedAt: at,
      });
    }
    case 'AddOnDetached': {
      const { [event.data.sku]: _removed, ...rest } = state.addOns;
      return withTerms(state, { addOns: rest, updatedAt: at });
    }
    case 'SeatsChanged':
      return withTerms(state, { seats: event.data.to, updatedAt: at });
    case 'SeatAssigned':
      return withTerms(state, { assignedUsers: [...state.assignedUsers, event.data.userId], updatedAt: at });
    case 'SeatReleased':
      return withTerms(state, {
        assignedUsers: state.assignedUsers.filter((u) => u !== event.data.userId),
        updatedAt: at,
      });
    case 'DeviceActivated':
      return withTerms(state, {
        devices: {
          ...state.devices,
          [event.data.deviceId]: { deviceId: event.data.deviceId, userId: event.data.userId, activatedAt: at },
        },
        updatedAt: at,
      });
    case 'DeviceDeactivated': {
      const { [event.data.deviceId]: _gone, ...devices } = state.devices;
      return withTerms(state, { devices, updatedAt: at });
    }
    case 'EntitlementRenewed':
      // A renewal extends the validity and so lifts an expiry; a suspension (unpaid invoices, an
      // operator's hold) stays until it is reinstated: renewing must not undo it.
      if (state.status === 'expired') return { ...terms(state), validUntil: event.data.validUntil, updatedAt: at, status: 'active' };
      return withTerms(state, { validUntil: event.data.validUntil, updatedAt: at });
    case 'EntitlementSuspended':
      return { ...terms(state), updatedAt: at, status: 'suspended', suspendedReason: event.data.reason, suspendedAt: at };
    case 'EntitlementReinstated':
      return { ...terms(state), updatedAt: at, status: 'active' };
    case 'EntitlementRevoked':
      return { ...terms(state), updatedAt: at, status: 'revoked', revokedReason: event.data.reason, revokedAt: at };
    case 'EntitlementExpired':
      return expired(state, at);
    default:
      return assertNever(event, 'entitlement event');
  }
}

/**
 * The state after `events` from `state`: what `events.reduce(evolveEntitlement, state)` gives,
 * without copying the assigned users and the devices at every seat and device event (which made a
 * stream whose seats accumulate quadratic to fold: 14 s at 50,000 events). Runs of seat and device
 * events change working copies in place; every other event, and the end, hands the state to
 * `evolveEntitlement` as it is. A stream the decider wrote assigns a user one seat at a time
 * (assigning a held seat is refused), so a set of users is the same list.
 */
export function foldEntitlementFrom(state: EntitlementState, events: readonly EntitlementEvent[]): EntitlementState {
  // A short run of seat events (a command's own, after a snapshot) works on one copy of the users, as
  // evolveEntitlement keeps them; a long one on a Set. Hashing 100,000 users into a Set for one
  // assignment cost more than the rest of the command.
  let list: string[] | null = null;
  let users: Set<string> | null = null;
  let seatEvents = 0;
  let devices: Map<string, ActiveDevice> | null = null;
  let updatedAt: string | null = null;
  const settle = (): void => {
    if (updatedAt === null || state.status === 'none') return;
    const assignedUsers = users ? [...users] : list;
    state = withTerms(state, { ...(assignedUsers ? { assignedUsers } : {}), ...(devices ? { devices: Object.fromEntries(devices) } : {}), updatedAt });
    list = null;
    users = null;
    seatEvents = 0;
    devices = null;
    updatedAt = null;
  };
  const asSet = (current: Entitlement): Set<string> => {
    if (!users) {
      users = new Set(list ?? current.assignedUsers);
      list = null;
    }
    return users;
  };
  for (const event of events) {
    if (state.status === 'none' || !IN_PLACE.has(event.type)) {
      settle();
      state = evolveEntitlement(state, event);
      continue;
    }
    const current = state;
    switch (event.type) {
      case 'SeatAssigned':
        if (users || ++seatEvents > SHORT_RUN) asSet(current).add(event.data.userId);
        else (list ??= current.assignedUsers.slice()).push(event.data.userId);
        break;
      case 'SeatReleased':
        if (users || ++seatEvents > SHORT_RUN) asSet(current).delete(event.data.userId);
        else list = (list ?? current.assignedUsers).filter((u) => u !== event.data.userId);
        break;
      case 'DeviceActivated': {
        const d = event.data;
        (devices ??= new Map(Object.entries(current.devices))).set(d.deviceId, { deviceId: d.deviceId, userId: d.userId, activatedAt: event.metadata.effectiveAt });
        break;
      }
      case 'DeviceDeactivated':
        (devices ??= new Map(Object.entries(current.devices))).delete(event.data.deviceId);
        break;
    }
    updatedAt = event.metadata.effectiveAt;
  }
  settle();
  return state;
}

/** Seat events in a run applied to an array copy before `foldEntitlementFrom` switches to a Set. */
const SHORT_RUN = 16;

/** The events `foldEntitlementFrom` applies to working copies. */
const IN_PLACE: ReadonlySet<EntitlementEvent['type']> = new Set(['SeatAssigned', 'SeatReleased', 'DeviceActivated', 'DeviceDeactivated']);
