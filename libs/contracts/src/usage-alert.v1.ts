import type { TopicMessageV1 } from './entitlements-topic.v1';

/**
 * io.ledger.usage.threshold.v1 on metering.alerts.v1 (key = customerId): a
 * meter's usage reached `threshold` percent of its cap in a period. One per
 * entitlement, meter, period and threshold; its id says which.
 */
export interface UsageAlertV1 {
  readonly type: 'io.ledger.usage.threshold.v1';
  readonly id: string;
  readonly customerId: string;
  readonly entitlementId: string;
  readonly feature: string;
  readonly periodStart: string;
  /** Percent of the cap. */
  readonly threshold: number;
  readonly cap: number;
  readonly capType: 'hard' | 'soft';
  /** Usage when the threshold was crossed. */
  readonly used: number;
  /** The usage position that crossed it. */
  readonly position: number;
  readonly raisedAt: string;
  /** The plan (lowest tier above the entitlement's) or add-on of its product that lifts the cap; null when none does. */
  readonly upgradeHint: { readonly kind: 'plan' | 'add_on'; readonly sku: string; readonly name: string; readonly productId: string } | null;
}

export function usageAlertV1(a: Omit<UsageAlertV1, 'type' | 'id'>): UsageAlertV1 {
  return { type: 'io.ledger.usage.threshold.v1', id: `${a.entitlementId}:${a.feature}:${a.periodStart}:${a.threshold}`, ...a };
}

export function usageAlertMessageV1(a: UsageAlertV1): TopicMessageV1<UsageAlertV1> {
  return { key: a.customerId, id: a.id, value: a, headers: { 'content-type': 'application/json', ce_id: a.id, ce_type: a.type } };
}
