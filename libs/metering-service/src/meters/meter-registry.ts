import { Injectable } from '@nestjs/common';
import type { EntitlementV1 } from '@el/contracts';
import { periodWindow, type MeterPeriod, type MeterSpec } from '@el/domain';

/** What metering needs of an entitlement: whose it is, when its periods start, what it meters. */
export interface MeteredEntitlement {
  readonly entitlementId: string;
  readonly customerId: string;
  readonly productId: string;
  readonly tier: number;
  /** The periods' anchor: the entitlement's start. */
  readonly validFrom: string;
  readonly status: EntitlementV1['status'];
  readonly revision: number;
  readonly meters: Readonly<Record<string, MeterSpec>>;
  /** Usage at or after this instant is not counted: the end of the term's grace, or the revocation (null: open-ended). */
  readonly endsAt: string | null;
}

export type Resolution = { readonly entitlement: MeteredEntitlement; readonly meter: MeterSpec } | { readonly refused: 'USAGE.UNKNOWN_CUSTOMER' | 'USAGE.UNKNOWN_FEATURE' | 'USAGE.UNKNOWN_ENTITLEMENT'; readonly reason: string };

/**
 * Every entitlement's meters (period, cap, hard or soft), learned from
 * ledger.entitlements.v1 (read from its beginning at every start; the newest
 * revision of each entitlement wins, so redeliveries change nothing).
 */
@Injectable()
export class MeterRegistry {
  private readonly byId = new Map<string, MeteredEntitlement>();
  private readonly byCustomer = new Map<string, Set<string>>();
  private readonly windows = new Map<string, { start: string; end: string; startMs: number; endMs: number }>();
  private readonly learned: ((e: MeteredEntitlement) => void)[] = [];

  /** Calls `listener` once per entitlement, when this process first learns it (every start replays the feed). */
  onLearned(listener: (e: MeteredEntitlement) => void): void {
    this.learned.push(listener);
  }

  /** `effectiveAt`: when this change took effect (a revocation ends the usage it meters then). */
  apply(e: EntitlementV1, effectiveAt?: string): void {
    const held = this.byId.get(e.entitlementId);
    if (held && held.revision >= e.revision) return;
    const revokedAt = e.status === 'revoked' ? (held?.status === 'revoked' ? held.endsAt : (effectiveAt ?? null)) : null;
    const graceEnds = e.validUntil === null ? null : e.graceEndsAt ?? e.validUntil;
    const endsAt = revokedAt !== null && (graceEnds === null || revokedAt < graceEnds) ? revokedAt : graceEnds;
    const meters: Record<string, MeterSpec> = {};
    for (const [feature, grant] of Object.entries(e.features)) if (grant.meter) meters[feature] = grant.meter;
    this.byId.set(e.entitlementId, { entitlementId: e.entitlementId, customerId: e.customerId, productId: e.productId, tier: e.tier, validFrom: e.validFrom, status: e.status, revision: e.revision, meters, endsAt });
    let ids = this.byCustomer.get(e.customerId);
    if (!ids) this.byCustomer.set(e.customerId, (ids = new Set()));
    ids.add(e.entitlementId);
    if (!held) for (const l of this.learned) l(this.byId.get(e.entitlementId)!);
  }

  /**
   * The period of an entitlement's meter that contains `atMs`. Kept per entitlement and period
   * length, since almost every event and check falls in the current one: the calendar arithmetic
   * runs once per period, not on the check path.
   */
  periodOf(e: MeteredEntitlement, period: MeterPeriod, atMs: number): { start: string; end: string } {
    const key = `${e.entitlementId}\u0000${period}\u0000${e.validFrom}`;
    let w = this.windows.get(key);
    if (!w || atMs < w.startMs || atMs >= w.endMs) {
      const pw = periodWindow(e.validFrom, period, atMs);
      if (this.windows.size > 100_000) this.windows.clear();
      this.windows.set(key, (w = { ...pw, startMs: Date.parse(pw.start), endMs: Date.parse(pw.end) }));
    }
    return w;
  }

  get(entitlementId: string): MeteredEntitlement | undefined {
    return this.byId.get(entitlementId);
  }

  ofCustomer(customerId: string): MeteredEntitlement[] {
    return [...(this.byCustomer.get(customerId) ?? [])].map((id) => this.byId.get(id)!);
  }

  all(): IterableIterator<MeteredEntitlement> {
    return this.byId.values();
  }

  get size(): number {
    return this.byId.size;
  }

  /**
   * The entitlement and meter a usage event counts against: the one it names,
   * else the customer's entitlement that meters the feature (active ones first,
   * then the oldest).
   */
  resolve(customerId: string, feature: string, entitlementId: string | undefined): Resolution {
    const owned = this.ofCustomer(customerId);
    if (owned.length === 0) return { refused: 'USAGE.UNKNOWN_CUSTOMER', reason: `customer ${customerId} has no entitlement` };
    if (entitlementId !== undefined) {
      const e = owned.find((x) => x.entitlementId === entitlementId);
      if (!e) return { refused: 'USAGE.UNKNOWN_ENTITLEMENT', reason: `customer ${customerId} has no entitlement ${entitlementId}` };
      const meter = e.meters[feature];
      return meter ? { entitlement: e, meter } : { refused: 'USAGE.UNKNOWN_FEATURE', reason: `entitlement ${entitlementId} does not meter ${feature}` };
    }
    const candidates = owned.filter((e) => e.meters[feature]).sort((a, b) => Number(b.status === 'active') - Number(a.status === 'active') || a.validFrom.localeCompare(b.validFrom));
    const e = candidates[0];
    if (!e) return { refused: 'USAGE.UNKNOWN_FEATURE', reason: `no entitlement of customer ${customerId} meters ${feature}` };
    return { entitlement: e, meter: e.meters[feature]! };
  }
}
