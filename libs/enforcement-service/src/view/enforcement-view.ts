import { PositionWaiters } from './position-waiters';
import { subjectFromV1, WatermarkTracker, type EntitlementEventV1, type EntitlementV1, type WatermarkV1 } from '@el/contracts';
import { check, type CheckContext, type CheckRequest, type CheckSubject, type Decision } from '@el/domain';

/** What a snapshot file holds: the view's state and where its input stood. */
export interface ViewSnapshot {
  readonly version: 2;
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
}

const NO_SUBJECTS: readonly CheckSubject[] = [];

/**
 * The enforcement service's in-memory view of ledger.entitlements.v1: every
 * entitlement's latest state, indexed by customer (with its check subjects
 * precomputed), entitlement, user and device. Messages carry full states, so
 * applying one is a replace guarded by the entitlement's revision: duplicates
 * and redeliveries change nothing. The view's position comes from the relay's
 * watermarks: once every partition reported W, every change up to W is here.
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

  constructor(
    readonly topic: string,
    readonly scope: string,
    snapshot?: ViewSnapshot,
  ) {
    this.watermarks = new WatermarkTracker(snapshot?.watermarks);
    this.safePosition = snapshot?.position ?? 0;
    this.lastEvent = snapshot?.lastEventPosition ?? 0;
    for (const [p, o] of Object.entries(snapshot?.offsets ?? {})) this.offsets.set(Number(p), o);
    for (const e of snapshot?.entitlements ?? []) this.put(e);
  }

  /** Every change up to this ledger position is in the view. */
  get position(): number {
    return this.safePosition;
  }

  /** The highest ledger position of a change applied (may run ahead of `position` across partitions). */
  get lastEventPosition(): number {
    return this.lastEvent;
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
   * Applies one entitlement change. Returns false when the view already holds
   * this revision or a later one (a duplicate or a redelivery).
   */
  applyChange(event: EntitlementEventV1): boolean {
    this.lastEvent = Math.max(this.lastEvent, event.position);
    const next = event.data.entitlement;
    const held = this.entitlements.get(next.entitlementId);
    if (held && held.v1.revision >= next.revision) return false;
    this.put(next, held?.v1);
    this.changeCount += 1;
    return true;
  }

  /** Records a relay watermark; wakes the checks waiting for the position it makes safe. */
  applyWatermark(w: WatermarkV1['data']): void {
    const safe = this.watermarks.observe(w);
    if (safe > this.safePosition) {
      this.safePosition = safe;
      this.changeCount += 1;
      this.wake();
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

  snapshot(now: Date): ViewSnapshot {
    return {
      version: 2,
      topic: this.topic,
      scope: this.scope,
      takenAt: now.toISOString(),
      position: this.safePosition,
      lastEventPosition: this.lastEvent,
      watermarks: this.watermarks.snapshot(),
      offsets: this.nextOffsets(),
      entitlements: [...this.entitlements.values()].map((e) => e.v1),
    };
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
