import { entitlementV1, subjectFromV1, type DecisionRequestV1, type DecisionUsageV1, type EntitlementV1 } from '@el/contracts';
import {
  CATALOG_STREAM,
  check,
  evolveEntitlement,
  initialEntitlementState,
  isEntitlementEvent,
  type Catalog,
  type CatalogPublished,
  type CheckRequest,
  type CheckSubject,
  type Decision,
  type EntitlementEvent,
  type EntitlementState,
  type UsageLookup,
} from '@el/domain';
import type { RecordedEvent } from '@el/event-store';

/** What a decision is recomputed from. */
export interface DecisionReplayInput {
  /**
   * Recorded events, already upcasted, of the customer's entitlement streams
   * and of the `catalog` stream, up to the position the decision was made at.
   * Any order; events of other streams are ignored, and so are events past
   * `position` when it is given.
   */
  readonly events: readonly RecordedEvent[];
  /** The check as it was asked (DecisionRecordV1.request). */
  readonly request: DecisionRequestV1;
  /** The instant the decision is about (DecisionRecordV1.atMs). */
  readonly atMs: number;
  /** The usage values the decision read (DecisionRecordV1.usage): usage is not ledger history. */
  readonly usage: readonly DecisionUsageV1[];
  /** The position the decision was made at (DecisionRecordV1.position). */
  readonly position?: number;
  /**
   * The catalog the service named in upgrade hints while no version had been
   * published up to the position (its CATALOG_PATH file; such decisions say
   * catalogVersion: null). Without it they are replayed without hints.
   */
  readonly fallbackCatalog?: Catalog;
}

export class ReplayHistoryError extends Error {
  override readonly name = 'ReplayHistoryError';
}

/**
 * Recomputes an enforcement decision from the ledger's history: the state the
 * enforcement view decided from, rebuilt from the events up to the decision's
 * position, with the catalog in force there and the usage values the decision
 * read. Pure: the same input always gives the same decision, and a decision
 * the service recorded (DecisionRecordV1) replays to itself.
 *
 * It rebuilds exactly what the view holds, by the same steps: each
 * entitlement stream is folded with the domain's `evolveEntitlement`, mapped
 * to the published state (`entitlementV1`, decoded from JSON as the view
 * receives it over the bus) and to a check subject (`subjectFromV1`), and the
 * subjects are ordered by the position at which each entitlement first
 * existed (the view adds entitlements in ledger order; among equally good
 * outcomes the first one decides). The catalog in force is the newest
 * `CatalogPublished` at or before the position. Then the domain's `check`.
 */
export function replayDecision(input: DecisionReplayInput): Decision {
  const { subjects, catalog } = historyAt(input.events, input.position);
  const usage = usageOf(input.usage);
  const r = input.request;
  // The same request shape the service builds (absent fields undefined), at the recorded instant.
  const request = {
    customerId: r.customerId,
    feature: r.feature,
    productId: r.productId,
    userId: r.userId,
    deviceId: r.deviceId,
    region: r.region,
    quantity: r.quantity,
    atMs: input.atMs,
  } as CheckRequest;
  const hints = catalog?.catalog ?? input.fallbackCatalog;
  return check(subjects, request, { ...(hints ? { catalog: hints } : {}), usage });
}

/** The catalog version in force at `position`: the newest one published at or before it (null: none yet). */
export function catalogInForceAt(events: readonly RecordedEvent[], position?: number): { readonly version: number; readonly position: number; readonly catalog: Catalog } | null {
  return historyAt(events, position).catalog;
}

interface Stream {
  revision: number;
  state: EntitlementState;
  /** Position of the first event after which the entitlement existed: its place in the view. */
  since: number | null;
}

function historyAt(events: readonly RecordedEvent[], position = Infinity) {
  const ordered = events.filter((e) => e.position <= position).sort((a, b) => a.position - b.position);
  const streams = new Map<string, Stream>();
  let catalog: { version: number; position: number; catalog: Catalog } | null = null;
  for (const r of ordered) {
    if (r.stream === CATALOG_STREAM) {
      if (r.type !== 'CatalogPublished') continue;
      const data = r.data as CatalogPublished['data'];
      if (!catalog || data.version > catalog.version) catalog = { version: data.version, position: r.position, catalog: data.catalog };
      continue;
    }
    if (!isEntitlementEvent(r)) continue;
    const held = streams.get(r.stream) ?? { revision: -1, state: initialEntitlementState, since: null };
    if (r.revision <= held.revision) continue; // the same event given twice
    if (r.revision !== held.revision + 1) throw new ReplayHistoryError(`${r.stream}: revision ${r.revision} follows ${held.revision}; the history given is incomplete`);
    const state = evolveEntitlement(held.state, { type: r.type, data: r.data, metadata: r.metadata } as unknown as EntitlementEvent);
    streams.set(r.stream, { revision: r.revision, state, since: held.since ?? (state.status === 'none' ? null : r.position) });
  }
  const subjects: { since: number; subject: CheckSubject }[] = [];
  for (const s of streams.values()) {
    if (s.state.status === 'none') continue;
    // As it travels: the view decided from the decoded message, not from the object the ledger built.
    const published = JSON.parse(JSON.stringify(entitlementV1(s.state, s.revision))) as EntitlementV1;
    subjects.push({ since: s.since!, subject: subjectFromV1(published) });
  }
  subjects.sort((a, b) => a.since - b.since);
  return { subjects: subjects.map((s) => s.subject), catalog };
}

function usageOf(recorded: readonly DecisionUsageV1[]): UsageLookup {
  const values = new Map<string, number>();
  for (const u of recorded) values.set(usageKey(u.entitlementId, u.feature, u.period), u.value);
  // A lookup the decision did not make reads 0, as for a service without a usage source.
  return (entitlementId, feature, period) => values.get(usageKey(entitlementId, feature, period)) ?? 0;
}

function usageKey(entitlementId: string, feature: string, period: string | null): string {
  return `${entitlementId}\u0000${feature}\u0000${period ?? ''}`;
}
