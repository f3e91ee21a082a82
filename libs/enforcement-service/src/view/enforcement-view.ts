import { PositionWaiters } from './position-waiters';
import { subjectFromV1, WatermarkTracker, type CatalogPublishedV1, type EntitlementEventV1, type EntitlementV1, type WatermarkV1 } from '@el/contracts';
import { check, type Catalog, type CheckContext, type CheckRequest, type CheckSubject, type Decision } from '@el/domain';

/** A catalog version as the ledger published it, and the ledger position it is in force from. */
export interface CatalogInForce {
  readonly version: number;
  readonly hash: string;
  readonly label: string;
  readonly catalog: Catalog;
  readonly position: number;
}

/** A change read from the feed but beyond the view's position: applied once a watermark covers it. */
export interface PendingChange {
  readonly position: number;
  readonly entitlement: EntitlementV1;
}

/**
 * The snapshot format this view writes and reads: 4 is a stream of lines (see SnapshotFile). Older ones are
 * refused and the view rebuilt (2: before catalogs and held changes; 3: one JSON document).
 */
export const VIEW_SNAPSHOT_VERSION = 4;

/** What a snapshot file holds: the view's state and where its input stood. */
export interface ViewSnapshot {
  readonly version: typeof VIEW_SNAPSHOT_VERSION;
  readonly topic: string;
  /** Where the offsets below are valid (IntegrationEvents.offsetScope): a Kafka cluster's topic, or the event store's log. */
  readonly scope: string;
  readonly takenAt: string;
  /** Every change up to this ledger position is in the view. */
  readonly position: number;
  readonly lastEventPosition: number;
  readonly watermarks: { readonly partitions: number; readonly watermarks: Record<number, number> };
  /** Next offset to read, per partition. */
  readonly offsets: Readonly<Record<number, string>>;
  readonly entitlements: readonly EntitlementV1[];
  /** Changes read past `position`, in the order read. */
  readonly pending: readonly PendingChange[];
  /** The catalog in force at `position` (null: none read yet). */
  readonly catalog: CatalogInForce | null;
  /** Catalog versions read past `position`. */
  readonly pendingCatalogs: readonly CatalogInForce[];
}

/** A snapshot without its entitlements: what a snapshot file's first line holds (the entitlements follow, one a line). */
export type ViewSnapshotHeader = Omit<ViewSnapshot, 'entitlements'>;

const NO_SUBJECTS: readonly CheckSubject[] = [];

/**
 * The enforcement service's in-memory view of ledger.entitlements.v1: every
 * entitlement's latest state, indexed by customer (with its check subjects
 * precomputed), entitlement, user and device. Messages carry full states, so
 * applying one is a replace guarded by the entitlement's revision: duplicates
 * and redeliveries change nothing. The view's position comes from the relay's
 * watermarks: once every partition reported W, every change up to W is here.
 *
 * The view answers at exactly its position: a change read beyond it (the rest
 * of a relay batch, or a partition read ahead of the others) is held until the
 * watermark that covers it, then applied in ledger order. So a check decided at
 * position P saw every change up to P and none after it, and the catalog in
 * force is the newest version published at or before P: a decision can be
 * recomputed from the ledger's history up to P (see libs/audit-service
 * `replayDecision`).
 */
export class EnforcementView {
  private readonly entitlements = new Map<string, { readonly v1: EntitlementV1; readonly subject: CheckSubject }>();
  private readonly byCustomer = new Map<string, CheckSubject[]>();
  private readonly byUser = new Map<string, Set<string>>();
  private readonly byDevice = new Map<string, Set<string>>();
  private readonly watermarks: WatermarkTracker;
  private readonly offsets = new Map<number, string>();
  private readonly waiters = new PositionWaiters();
  private safePosition: number;
  private lastEvent: number;
  private changeCount = 0;
  private pending: PendingChange[];
  private catalogInForce: CatalogInForce | null;
  private pendingCatalogs: CatalogInForce[];

  constructor(
    readonly topic: string,
    readonly scope: string,
    snapshot?: ViewSnapshotHeader & { readonly entitlements?: readonly EntitlementV1[] },
  ) {
    this.watermarks = new WatermarkTracker(snapshot?.watermarks);
    this.safePosition = snapshot?.position ?? 0;
    this.lastEvent = snapshot?.lastEventPosition ?? 0;
    for (const [p, o] of Object.entries(snapshot?.offsets ?? {})) this.offsets.set(Number(p), o);
    for (const e of snapshot?.entitlements ?? []) this.put(e);
    this.pending = [...(snapshot?.pending ?? [])];
    this.catalogInForce = snapshot?.catalog ?? null;
    this.pendingCatalogs = [...(snapshot?.pendingCatalogs ?? [])];
  }

  /** Every change up to this ledger position is in the view. */
  get position(): number {
    return this.safePosition;
  }

  /** The highest ledger position of a change applied (may run ahead of `position` across partitions). */
  get lastEventPosition(): number {
    return this.lastEvent;
  }

  /** The catalog version in force at `position`; null until one has been read. */
  get catalog(): CatalogInForce | null {
    return this.catalogInForce;
  }

  /** Changes read but beyond `position`, waiting for a watermark. */
  get held(): number {
    return this.pending.length;
  }

  /** Changes applied since the view was created (snapshots are taken when this moves). */
  get changes(): number {
    return this.changeCount;
  }

  get size(): { entitlements: number; customers: number; users: number; devices: number } {
    return { entitlements: this.entitlements.size, customers: this.byCustomer.size, users: this.byUser.size, devices: this.byDevice.size };
  }

  /** Next offset to read per partition. */
  nextOffsets(): Record<number, string> {
    return Object.fromEntries(this.offsets);
  }

  /**
   * Takes one entitlement change: applied at once when the view's position
   * already covers it, else held until a watermark does. Returns false when
   * the view already holds this revision or a later one (a duplicate or a
   * redelivery).
   */
  applyChange(event: EntitlementEventV1): boolean {
    this.lastEvent = Math.max(this.lastEvent, event.position);
    const next = event.data.entitlement;
    const held = this.entitlements.get(next.entitlementId);
    if (held && held.v1.revision >= next.revision) return false;
    this.changeCount += 1;
    if (event.position > this.safePosition) this.pending.push({ position: event.position, entitlement: next });
    else this.put(next, held?.v1);
    return true;
  }

  /**
   * Takes a catalog version: in force once the view's position reaches the
   * position it was published at. Returns false for a version the view
   * already has (every partition carries each one) or one older than it.
   */
  applyCatalog(c: CatalogPublishedV1): boolean {
    const version = c.data.version;
    if ((this.catalogInForce && this.catalogInForce.version >= version) || this.pendingCatalogs.some((p) => p.version === version)) return false;
    const catalog: CatalogInForce = { version, hash: c.data.hash, label: c.data.label, catalog: c.data.catalog, position: c.position };
    this.changeCount += 1;
    if (c.position > this.safePosition) this.pendingCatalogs.push(catalog);
    else this.catalogInForce = catalog;
    return true;
  }

  /**
   * Records a relay watermark. When it moves the position, the held changes
   * and catalog versions it covers are applied, in ledger order, before the
   * checks waiting for that position are woken.
   */
  applyWatermark(w: WatermarkV1['data']): void {
    const safe = this.watermarks.observe(w);
    if (safe > this.safePosition) {
      this.safePosition = safe;
      this.release();
      this.changeCount += 1;
      this.wake();
    }
  }

  private release(): void {
    const safe = this.safePosition;
    if (this.pending.length > 0) {
      const ready: PendingChange[] = [];
      const later: PendingChange[] = [];
      for (const p of this.pending) (p.position <= safe ? ready : later).push(p);
      if (ready.length > 0) {
        // Partitions are read independently: ledger order is restored here (per entitlement it already is).
        ready.sort((a, b) => a.position - b.position);
        for (const { entitlement } of ready) this.putIfNewer(entitlement);
        this.pending = later;
      }
    }
    if (this.pendingCatalogs.length > 0) {
      const later: CatalogInForce[] = [];
      for (const c of this.pendingCatalogs) {
        if (c.position > safe) later.push(c);
        else if (!this.catalogInForce || c.version > this.catalogInForce.version) this.catalogInForce = c;
      }
      this.pendingCatalogs = later;
    }
  }

  /** Marks a message of `partition` at `offset` as read (after applying it). */
  markRead(partition: number, offset: string): void {
    this.offsets.set(partition, (BigInt(offset) + 1n).toString());
  }

  check(request: CheckRequest, ctx?: CheckContext): Decision {
    return check(this.byCustomer.get(request.customerId) ?? NO_SUBJECTS, request, ctx);
  }

  entitlement(id: string): EntitlementV1 | undefined {
    return this.entitlements.get(id)?.v1;
  }

  ofCustomer(customerId: string): EntitlementV1[] {
    return (this.byCustomer.get(customerId) ?? []).map((s) => this.entitlements.get(s.entitlementId)!.v1);
  }

  ofUser(userId: string): EntitlementV1[] {
    return [...(this.byUser.get(userId) ?? [])].map((id) => this.entitlements.get(id)!.v1);
  }

  ofDevice(deviceId: string): EntitlementV1[] {
    return [...(this.byDevice.get(deviceId) ?? [])].map((id) => this.entitlements.get(id)!.v1);
  }

  /** Resolves true once the view reached `position`, false after `timeoutMs`. */
  waitFor(position: number, timeoutMs: number): Promise<boolean> {
    if (this.safePosition >= position) return Promise.resolve(true);
    return this.waiters.wait(position, timeoutMs);
  }

  /** Fails every pending wait (shutdown). */
  cancelWaits(): void {
    this.waiters.cancel();
  }

  /** The whole view as one value (tests; files are written by `snapshotHeader` and `states`, a line at a time). */
  snapshot(now: Date): ViewSnapshot {
    return { ...this.snapshotHeader(now), entitlements: [...this.states()] };
  }

  /**
   * Where the view stands, without its entitlements. Written first: `states()`, read after it while the
   * view goes on applying changes, then hands out each entitlement as it is when reached — never older
   * than at `position` here. A view restored from the two replays its feed from these offsets, and a
   * replayed change older than the state it holds changes nothing (revisions), so it ends where a view
   * built from the topic would.
   */
  snapshotHeader(now: Date): ViewSnapshotHeader {
    return {
      version: VIEW_SNAPSHOT_VERSION,
      topic: this.topic,
      scope: this.scope,
      takenAt: now.toISOString(),
      position: this.safePosition,
      lastEventPosition: this.lastEvent,
      watermarks: this.watermarks.snapshot(),
      offsets: this.nextOffsets(),
      pending: [...this.pending],
      catalog: this.catalogInForce,
      pendingCatalogs: [...this.pendingCatalogs],
    };
  }

  /** Every entitlement's state, one at a time (no copy of the whole view). */
  *states(): IterableIterator<EntitlementV1> {
    for (const e of this.entitlements.values()) yield e.v1;
  }

  /** Puts an entitlement read from a snapshot file back (after `new EnforcementView(topic, scope, header)`). */
  restore(state: EntitlementV1): void {
    this.putIfNewer(state);
  }

  /** Puts a state unless the view holds this revision of the entitlement or a later one. */
  private putIfNewer(state: EntitlementV1): void {
    const previous = this.entitlements.get(state.entitlementId)?.v1;
    if (!previous || previous.revision < state.revision) this.put(state, previous);
  }

  private wake(): void {
    this.waiters.reached(this.safePosition);
  }

  private put(next: EntitlementV1, previous?: EntitlementV1): void {
    const subject = subjectFromV1(next);
    this.entitlements.set(next.entitlementId, { v1: next, subject });
    const list = this.byCustomer.get(next.customerId);
    if (!list) {
      this.byCustomer.set(next.customerId, [subject]);
    } else {
      const i = list.findIndex((s) => s.entitlementId === next.entitlementId);
      if (i >= 0) list[i] = subject;
      else list.push(subject);
    }
    reindex(this.byUser, next.entitlementId, previous?.assignedUsers ?? [], next.assignedUsers);
    reindex(this.byDevice, next.entitlementId, previous?.devices.map((d) => d.deviceId) ?? [], next.devices.map((d) => d.deviceId));
  }
}

function reindex(index: Map<string, Set<string>>, entitlementId: string, before: readonly string[], after: readonly string[]): void {
  const now = new Set(after);
  for (const key of before) {
    if (now.has(key)) continue;
    const set = index.get(key);
    set?.delete(entitlementId);
    if (set?.size === 0) index.delete(key);
  }
  for (const key of now) {
    let set = index.get(key);
    if (!set) index.set(key, (set = new Set()));
    set.add(entitlementId);
  }
}
