import { mergeFeatures, type FeatureSet } from '../catalog/catalog';
import { assertNever } from '../shared/envelope';
import { addDays } from '../shared/time';
import type { EntitlementEvent, GrantOrigin, PlanTerms } from './entitlement.events';
import { SeatHolders } from './seat-holders';

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
  /** Who holds a seat, in assignment order (a persistent set: a new version costs O(1)). */
  readonly assignedUsers: SeatHolders;
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
      assignedUsers: SeatHolders.from([]),
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
      return withTerms(state, { assignedUsers: state.assignedUsers.with(event.data.userId), updatedAt: at });
    case 'SeatReleased':
      return withTerms(state, { assignedUsers: state.assignedUsers.without(event.data.userId), updatedAt: at });
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
 * without making a state at every seat or device event. Runs of them change working copies (the
 * devices in a Map, the users as the newest `SeatHolders` version, both O(1) an event) and make one
 * state at the run's end; every other event hands the state to `evolveEntitlement` as it is. Copying
 * the devices at every device event made a stream whose devices accumulate quadratic to fold, and a
 * state per seat event made folds 5× slower than this.
 */
export function foldEntitlementFrom(state: EntitlementState, events: readonly EntitlementEvent[]): EntitlementState {
  let devices: Map<string, ActiveDevice> | null = null;
  let users: SeatHolders | null = null;
  let updatedAt: string | null = null;
  const settle = (): void => {
    if (updatedAt === null || state.status === 'none') return;
    state = withTerms(state, { ...(devices !== null ? { devices: Object.fromEntries(devices) } : {}), ...(users !== null ? { assignedUsers: users } : {}), updatedAt });
    devices = null;
    users = null;
    updatedAt = null;
  };
  for (const event of events) {
    const current = state;
    if (current.status === 'none') {
      state = evolveEntitlement(current, event);
      continue;
    }
    switch (event.type) {
      case 'SeatAssigned':
        users = (users ?? current.assignedUsers).with(event.data.userId);
        break;
      case 'SeatReleased':
        users = (users ?? current.assignedUsers).without(event.data.userId);
        break;
      case 'DeviceActivated': {
        const d = event.data;
        (devices ??= new Map(Object.entries(current.devices))).set(d.deviceId, { deviceId: d.deviceId, userId: d.userId, activatedAt: event.metadata.effectiveAt });
        break;
      }
      case 'DeviceDeactivated':
        (devices ??= new Map(Object.entries(current.devices))).delete(event.data.deviceId);
        break;
      default:
        settle();
        state = evolveEntitlement(state, event);
        continue;
    }
    updatedAt = event.metadata.effectiveAt;
  }
  settle();
  return state;
}

/** An entitlement as JSON holds it (a snapshot file, a read-model row): its assigned users an array. */
export type EntitlementJson = Entitlement extends infer E ? (E extends Entitlement ? Omit<E, 'assignedUsers'> & { readonly assignedUsers: readonly string[] } : never) : never;

/** An entitlement as a store gives it back: read from JSON, or still the state it was given. */
export type StoredEntitlement = Entitlement | EntitlementJson;

/**
 * An entitlement state read back from JSON (a snapshot file, a read-model row): its assigned
 * users, serialised as an array, become a `SeatHolders` again. A state already holding one is
 * returned as it is.
 */
export function reviveEntitlementState(state: StoredEntitlement): Entitlement;
export function reviveEntitlementState(state: EntitlementState | EntitlementJson): EntitlementState;
export function reviveEntitlementState(state: EntitlementState | EntitlementJson): EntitlementState {
  if (state.status === 'none' || state.assignedUsers instanceof SeatHolders) return state as EntitlementState;
  return { ...state, assignedUsers: SeatHolders.from(state.assignedUsers) } as Entitlement;
}
