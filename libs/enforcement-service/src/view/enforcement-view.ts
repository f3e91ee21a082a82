import { PositionWaiters } from './position-waiters';
import { EntitlementTable } from './entitlement-table';
import { WatermarkTracker, type CatalogPublishedV1, type EntitlementEventV1, type EntitlementV1, type WatermarkV1 } from '@el/contracts';
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
 * The snapshot format this view writes and reads: 5 is a stream of lines (see SnapshotFile), each a
 * profile or an entitlement as EntitlementTable writes them. Older ones are refused and the view rebuilt
 * (2: before catalogs and held changes; 3: one JSON document; 4: one EntitlementV1 a line).
 */
export const VIEW_SNAPSHOT_VERSION = 5;

/** What a snapshot file holds: the view's state and where its input stood. */
export interface ViewSnapshot {
  readonly version: typeof VIEW_SNAPSHOT_VERSION;
  readonly topic: string;
  /** The partitions the view holds (VIEW_PARTITIONS); null or absent: every one. */
  readonly holds?: readonly number[] | null;
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

/** A snapshot without its entitlements: what a snapshot file's first line holds (the entitlements follow, a line each). */
export type ViewSnapshotHeader = Omit<ViewSnapshot, 'entitlements'>;

const NO_SUBJECTS: readonly CheckSubject[] = [];

/**
 * The enforcement service's in-memory view of ledger.entitlements.v1: every
 * entitlement's latest state, in a compact table (EntitlementTable) indexed by
 * customer, entitlement, user and device. Messages carry full states, so
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
  private readonly table = new EntitlementTable();
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
    /** The partitions this view holds (a shard); null: every one. Its position is theirs. */
    readonly holds: readonly number[] | null = snapshot?.holds ?? null,
  ) {
    this.watermarks = new WatermarkTracker(snapshot?.watermarks, holds);
    this.safePosition = snapshot?.position ?? 0;
    this.lastEvent = snapshot?.lastEventPosition ?? 0;
    for (const [p, o] of Object.entries(snapshot?.offsets ?? {})) this.offsets.set(Number(p), o);
    for (const e of snapshot?.entitlements ?? []) this.table.putIfNewer(e);
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

  get size(): { entitlements: number; customers: number; users: number; devices: number; profiles: number } {
    return this.table.size;
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
    const held = this.table.revisionOf(next.entitlementId);
    if (held !== undefined && held >= next.revision) return false;
    this.changeCount += 1;
    if (event.position > this.safePosition) this.pending.push({ position: event.position, entitlement: next });
    else this.table.putIfNewer(next);
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
        for (const { entitlement } of ready) this.table.putIfNewer(entitlement);
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
    return check(this.table.subjectsOf(request.customerId) ?? NO_SUBJECTS, request, ctx);
  }

  entitlement(id: string): EntitlementV1 | undefined {
    return this.table.get(id);
  }

  ofCustomer(customerId: string): EntitlementV1[] {
    return this.table.ofCustomer(customerId);
  }

  ofUser(userId: string): EntitlementV1[] {
    return this.table.ofUser(userId);
  }

  ofDevice(deviceId: string): EntitlementV1[] {
    return this.table.ofDevice(deviceId);
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

  /** The whole view as one value (tests; files are written by `snapshotHeader` and `lines`, a line at a time). */
  snapshot(now: Date): ViewSnapshot {
    return { ...this.snapshotHeader(now), entitlements: [...this.states()] };
  }

  /**
   * Where the view stands, without its entitlements. Written first: `lines()`, read after it while the
   * view goes on applying changes, then hands out each entitlement as it is when reached — never older
   * than at `position` here. A view restored from the two replays its feed from these offsets, and a
   * replayed change older than the state it holds changes nothing (revisions), so it ends where a view
   * built from the topic would.
   */
  snapshotHeader(now: Date): ViewSnapshotHeader {
    return {
      version: VIEW_SNAPSHOT_VERSION,
      topic: this.topic,
      holds: this.holds,
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
  states(): IterableIterator<EntitlementV1> {
    return this.table.states();
  }

  /** The entitlements as a snapshot file's lines (JSON text), one at a time. */
  lines(): IterableIterator<string> {
    return this.table.lines();
  }

  /** Puts an entitlement state back unless the view holds this revision or a later one. */
  restore(state: EntitlementV1): void {
    this.table.putIfNewer(state);
  }

  /**
   * Puts back the entitlements of a snapshot file's lines (after `new EnforcementView(topic, scope, header)`);
   * throws for a line that is not one `lines()` writes.
   */
  async restoreLines(lines: AsyncIterable<unknown>): Promise<void> {
    const profiles = new Map<number, number>();
    for await (const line of lines) this.table.restoreLine(line, profiles);
  }

  private wake(): void {
    this.waiters.reached(this.safePosition);
  }
}
