import { toMillis } from '../shared/time';
import type { EntitlementEvent } from './entitlement.events';
import { evolveEntitlement, expired, graceEndsAtOf, initialEntitlementState, type EntitlementState } from './entitlement.state';

/**
 * The two times a bitemporal question is about: "what did the ledger, as of
 * `recordedAsOf`, believe was in force at `asOf`". Both ISO-8601 instants.
 */
export interface AsOf {
  /** Effective (business) time: the state in force at this instant. */
  readonly asOf: string;
  /** Transaction time: only events the ledger had recorded by this instant count. */
  readonly recordedAsOf: string;
}

/** What a caller asked for; either may be left out. */
export interface AsOfRequest {
  readonly asOf?: string | undefined;
  readonly recordedAsOf?: string | undefined;
}

/**
 * Fills in what the caller left out. `recordedAsOf` defaults to `now` (all the
 * ledger knows today). `asOf` defaults to `recordedAsOf`, so `recordedAsOf`
 * alone asks "what did we believe then about then", and neither asks about now.
 * Both come back normalised to UTC with milliseconds, as the ledger writes instants.
 */
export function resolveAsOf(request: AsOfRequest, now: string): AsOf {
  const recordedAsOf = normalise(request.recordedAsOf ?? now);
  return { asOf: request.asOf !== undefined ? normalise(request.asOf) : recordedAsOf, recordedAsOf };
}

export interface EntitlementAsOf {
  /** `none` when nothing the ledger had recorded by `recordedAsOf` was in force at `asOf`. */
  readonly state: EntitlementState;
  /** Revision of the newest event recorded by `recordedAsOf` (-1: none): how far the ledger's record had got. */
  readonly revision: number;
}

/**
 * When an event takes effect in the business's timeline: its `effectiveAt`,
 * except a grant, which takes effect when its validity starts. The two are
 * the same unless an operator dated a manual grant (`validFrom`) earlier or
 * later than the day it was recorded: a grant back-dated to October was in
 * force in October, and one starting in December was not in force before.
 */
export function takesEffectAt(event: EntitlementEvent): string {
  return event.type === 'EntitlementGranted' ? event.data.validFrom : event.metadata.effectiveAt;
}

/**
 * An entitlement as the ledger, as of `recordedAsOf`, believed it stood at
 * `asOf`. Of the stream's events (in stream order, revision = index), those
 * recorded by `recordedAsOf` and in effect by `asOf` are folded with the one
 * `evolveEntitlement`; then the lapse of time is applied: an active or
 * suspended entitlement whose validity and grace ended by `asOf` is expired
 * (at the end of its grace), as the expiry sweep records it.
 */
export function entitlementAsOf(events: readonly EntitlementEvent[], at: AsOf): EntitlementAsOf {
  const recordedBy = toMillis(at.recordedAsOf);
  const inEffectBy = toMillis(at.asOf);
  let revision = -1;
  let state: EntitlementState = initialEntitlementState;
  events.forEach((event, index) => {
    if (toMillis(event.metadata.recordedAt) > recordedBy) return;
    revision = index;
    if (toMillis(takesEffectAt(event)) <= inEffectBy) state = evolveEntitlement(state, event);
  });
  return { state: lapsed(state, inEffectBy), revision };
}

function lapsed(state: EntitlementState, atMs: number): EntitlementState {
  if (state.status !== 'active' && state.status !== 'suspended') return state;
  const graceEndsAt = graceEndsAtOf(state);
  return graceEndsAt !== null && toMillis(graceEndsAt) <= atMs ? expired(state, graceEndsAt) : state;
}

function normalise(iso: string): string {
  return new Date(toMillis(iso)).toISOString();
}
