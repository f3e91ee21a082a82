import { Injectable } from '@nestjs/common';
import type { MeterPeriod } from '@el/domain';
import type { UsageProgress } from '@el/platform';
import { MeterRegistry } from '../meters/meter-registry';

const key = (entitlementId: string, feature: string, periodStart: string) => `${entitlementId}\u0000${feature}\u0000${periodStart}`;

/** A counter as one commit left it. */
export interface CommittedCounter {
  readonly entitlementId: string;
  readonly feature: string;
  readonly periodStart: string;
  readonly value: number;
  readonly position: number;
}

/** Told the counters that moved, once per ingest (every `set` of one synchronous run, handed over in a microtask). */
export type CommittedListener = (moved: readonly CommittedCounter[]) => void;

/**
 * The meters' values in memory, as committed: what checks read
 * (`lookup`, the decision function's usage hook). Loaded from the store at
 * start and moved forward by every ingest after its commit, so a check after
 * an ingest's answer sees that usage (read-your-usage).
 *
 * `set` is only ever called after a commit, so it is also where others learn
 * that usage was committed (`onCommitted`): the sets an ingest makes one after
 * another are handed to the listeners together, in a microtask, never inside
 * the ingest itself — a listener cannot slow down or fail an ingest.
 */
@Injectable()
export class UsageCounters implements UsageProgress {
  /** Each counter with the position of the commit that left it: on PostgreSQL commits answer out of order, and an older answer must not overwrite a newer value. */
  private readonly values = new Map<string, { value: number; position: number }>();
  private highest = 0;
  private readonly listeners: CommittedListener[] = [];
  private moved: CommittedCounter[] = [];

  constructor(private readonly registry: MeterRegistry) {}

  set(entitlementId: string, feature: string, periodStart: string, value: number, position: number): void {
    const k = key(entitlementId, feature, periodStart);
    const held = this.values.get(k);
    if (held && held.position > position) return;
    this.values.set(k, { value, position });
    if (position > this.highest) this.highest = position;
    if (this.listeners.length === 0) return;
    if (this.moved.length === 0) queueMicrotask(() => this.handOver());
    this.moved.push({ entitlementId, feature, periodStart, value, position });
  }

  /** Calls `listener` with the counters each ingest moved, after its commit. */
  onCommitted(listener: CommittedListener): void {
    this.listeners.push(listener);
  }

  private handOver(): void {
    const moved = this.moved;
    this.moved = [];
    for (const l of this.listeners) l(moved);
  }

  value(entitlementId: string, feature: string, periodStart: string): number {
    return this.values.get(key(entitlementId, feature, periodStart))?.value ?? 0;
  }

  /** The newest usage position these counters include. */
  get position(): number {
    return this.highest;
  }

  /**
   * Read-your-usage in the same process: an ingest moves these counters before
   * it answers, so a position it answered is here already. One position for all
   * customers (this process's counters hold every customer), nothing to wait for.
   */
  waitFor(_customerId: string, position: number): Promise<boolean> {
    return Promise.resolve(this.highest >= position);
  }

  /** The decision function's usage hook: the entitlement's meter in the period that contains `atMs`. */
  readonly lookup = (entitlementId: string, feature: string, period: MeterPeriod | null, atMs: number): number => {
    if (period === null) return 0;
    const e = this.registry.get(entitlementId);
    if (!e) return 0;
    return this.value(entitlementId, feature, this.registry.periodOf(e, period, atMs).start);
  };
}
