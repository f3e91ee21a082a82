import type { Catalog, FeatureGrant, FeatureSet, MeterPeriod, ProductSpec } from '../catalog/catalog';
import { effectiveFeatures, graceEndsAtOf, statusReasonOf, type Entitlement } from '../entitlement/entitlement.state';
import { toMillis } from '../shared/time';

/**
 * What a check needs of one entitlement, precomputed once when the
 * entitlement changes (instants as numbers, seats and devices as sets) so a
 * check is a handful of lookups. Built from the domain state (`subjectOf`) or
 * from the published state (`subjectFromV1` in @el/contracts).
 */
export interface CheckSubject {
  readonly entitlementId: string;
  readonly customerId: string;
  readonly productId: string;
  readonly planId: string;
  readonly tier: number;
  readonly status: 'active' | 'suspended' | 'expired' | 'revoked';
  readonly statusReason: string | null;
  readonly validFromMs: number;
  readonly validFrom: string;
  readonly validUntilMs: number | null;
  readonly validUntil: string | null;
  readonly graceEndsMs: number | null;
  readonly graceEndsAt: string | null;
  /** null: usable everywhere. */
  readonly regions: ReadonlySet<string> | null;
  /** Plan and add-on grants merged. */
  readonly features: FeatureSet;
  readonly seats: number;
  readonly seatHolders: Members;
  readonly devices: Members;
}

/** What a check asks of a subject's users and devices: a Set, or anything as cheap to ask (the enforcement view's compact lists). */
export interface Members {
  has(key: string): boolean;
  readonly size: number;
}

/** A subject as it travels (ISO instants, arrays): what integration events and license tokens carry. */
export interface CheckSubjectFields {
  readonly entitlementId: string;
  readonly customerId: string;
  readonly productId: string;
  readonly planId: string;
  readonly tier: number;
  readonly status: CheckSubject['status'];
  readonly statusReason: string | null;
  readonly validFrom: string;
  readonly validUntil: string | null;
  readonly graceEndsAt: string | null;
  readonly regions: readonly string[] | null;
  readonly features: FeatureSet;
  readonly seats: number;
  readonly seatHolders: Iterable<string>;
  readonly devices: Iterable<string>;
}

/** The one place subjects are built, so every subject (from state, event or token) has the same shape. */
export function checkSubject(f: CheckSubjectFields): CheckSubject {
  return {
    entitlementId: f.entitlementId,
    customerId: f.customerId,
    productId: f.productId,
    planId: f.planId,
    tier: f.tier,
    status: f.status,
    statusReason: f.statusReason,
    validFromMs: toMillis(f.validFrom),
    validFrom: f.validFrom,
    validUntilMs: f.validUntil ? toMillis(f.validUntil) : null,
    validUntil: f.validUntil,
    graceEndsMs: f.graceEndsAt ? toMillis(f.graceEndsAt) : null,
    graceEndsAt: f.graceEndsAt,
    regions: f.regions ? new Set(f.regions) : null,
    features: f.features,
    seats: f.seats,
    seatHolders: new Set(f.seatHolders),
    devices: new Set(f.devices),
  };
}

export function subjectOf(e: Entitlement): CheckSubject {
  return checkSubject({
    entitlementId: e.entitlementId,
    customerId: e.customerId,
    productId: e.productId,
    planId: e.planId,
    tier: e.tier,
    status: e.status,
    statusReason: statusReasonOf(e),
    validFrom: e.validFrom,
    validUntil: e.validUntil,
    graceEndsAt: graceEndsAtOf(e),
    regions: e.regions,
    features: effectiveFeatures(e),
    seats: e.seats,
    seatHolders: e.assignedUsers,
    devices: Object.keys(e.devices),
  });
}

/**
 * Decision codes in precedence order: a single entitlement is checked top to
 * bottom and the first failing rule decides. `IN_GRACE` (an allowed `EXPIRED`)
 * and `OVERAGE` (an allowed `USAGE_CAP_REACHED`) are the allowed variants.
 */
export const DECISION_PRECEDENCE = [
  'NO_ENTITLEMENT',
  'REVOKED',
  'SUSPENDED',
  'NOT_YET_ACTIVE',
  'EXPIRED',
  'FEATURE_NOT_INCLUDED',
  'REGION_BLOCKED',
  'SEAT_NOT_ASSIGNED',
  'DEVICE_LIMIT',
  'USAGE_CAP_REACHED',
  'OK',
] as const;
export type DenialCode = Exclude<(typeof DECISION_PRECEDENCE)[number], 'OK'>;
export type AllowedCode = 'OK' | 'IN_GRACE' | 'OVERAGE';
export type DecisionCode = DenialCode | AllowedCode;

export interface CheckRequest {
  readonly customerId: string;
  readonly feature: string;
  /** Restricts the check to one product's entitlements. */
  readonly productId?: string;
  readonly userId?: string;
  readonly deviceId?: string;
  /** Region code of the caller (e.g. "EU"); plans with a region list block others. */
  readonly region?: string;
  /** Units about to be consumed (metered) or held (limits). Defaults to 1. */
  readonly quantity?: number;
  /** The instant the check is about (ISO-8601), or `atMs` as epoch milliseconds. */
  readonly at?: string;
  readonly atMs?: number;
}

export interface UpgradeHint {
  readonly kind: 'plan' | 'add_on';
  readonly sku: string;
  readonly name: string;
  readonly productId: string;
}

export interface Decision {
  readonly allowed: boolean;
  readonly code: DecisionCode;
  readonly entitlementId: string | null;
  /** Units left after this check for limited or metered features; `null` for on/off features. */
  readonly remaining: number | null;
  readonly expiresAt: string | null;
  readonly upgradeHint: UpgradeHint | null;
  readonly reason: string;
}

/** Usage so far in the current period; supplied by metering. Must be pure from the check's view. */
/** Usage so far of an entitlement's meter in the period that contains `atMs` (the instant the check is about). */
export type UsageLookup = (entitlementId: string, feature: string, period: MeterPeriod | null, atMs: number) => number;

export interface CheckContext {
  /** The catalog in force, used to name the plan or add-on that would unlock a denial. */
  readonly catalog?: Catalog;
  readonly usage?: UsageLookup;
}

/** Allowed outcomes, least preferred first: a clean OK beats one in grace, which beats one that bills overage. */
const ALLOWED_PREFERENCE = ['OVERAGE', 'IN_GRACE', 'OK'] as const satisfies readonly AllowedCode[];

/**
 * How good an outcome is, derived from DECISION_PRECEDENCE: a denial that got
 * further down the precedence list is more specific, and any allowed outcome
 * beats every denial.
 */
const RANK = Object.fromEntries(
  [...DECISION_PRECEDENCE.filter((c) => c !== 'OK'), ...ALLOWED_PREFERENCE].map((code, rank) => [code, rank]),
) as Record<DecisionCode, number>;

/**
 * May the customer use the feature now? Evaluates every entitlement of the
 * customer (optionally of one product) and answers with the best outcome:
 * any allowed decision wins; otherwise the denial that got furthest through
 * the precedence list, since it is the most specific reason. Never throws for
 * a business reason and never has side effects.
 */
export function check(subjects: readonly CheckSubject[], request: CheckRequest, ctx: CheckContext = {}): Decision {
  const at = request.atMs ?? (request.at !== undefined ? toMillis(request.at) : NaN);
  if (Number.isNaN(at)) throw new RangeError('check: give `at` (ISO-8601) or `atMs`');
  let best: Decision | null = null;
  for (let i = 0; i < subjects.length; i++) {
    const e = subjects[i]!;
    if (e.customerId !== request.customerId) continue;
    if (request.productId !== undefined && e.productId !== request.productId) continue;
    const d = evaluate(e, request, at, ctx);
    if (
      best === null ||
      RANK[d.code] > RANK[best.code] ||
      (RANK[d.code] === RANK[best.code] && (d.remaining ?? Infinity) > (best.remaining ?? Infinity))
    ) {
      best = d;
      // Nothing beats an unlimited OK.
      if (d.code === 'OK' && d.remaining === null) break;
    }
  }
  if (best) return best;
  return decision(
    false,
    'NO_ENTITLEMENT',
    null,
    null,
    null,
    ctx.catalog ? hintForMissingFeature(ctx.catalog, request.feature, null, -1) : null,
    `customer ${request.customerId} has no entitlement${request.productId ? ` to ${request.productId}` : ''}`,
  );
}

/** Every decision has the same shape (one hidden class: cheap to build, copy and serialize). */
function decision(
  allowed: boolean,
  code: DecisionCode,
  entitlementId: string | null,
  remaining: number | null,
  expiresAt: string | null,
  upgradeHint: UpgradeHint | null,
  reason: string,
): Decision {
  return { allowed, code, entitlementId, remaining, expiresAt, upgradeHint, reason };
}

/** `check` over domain entitlements (builds their subjects first). */
export function checkEntitlements(entitlements: readonly Entitlement[], request: CheckRequest, ctx: CheckContext = {}): Decision {
  return check(entitlements.map(subjectOf), request, ctx);
}

function deny(e: CheckSubject, code: DenialCode, reason: string, remaining: number | null = null, upgradeHint: UpgradeHint | null = null): Decision {
  return decision(false, code, e.entitlementId, remaining, e.validUntil, upgradeHint, reason);
}

function evaluate(e: CheckSubject, req: CheckRequest, at: number, ctx: CheckContext): Decision {
  if (e.status === 'revoked') return deny(e, 'REVOKED', `entitlement was revoked: ${e.statusReason}`);
  if (e.status === 'suspended') return deny(e, 'SUSPENDED', `entitlement is suspended: ${e.statusReason}`);
  if (at < e.validFromMs) return deny(e, 'NOT_YET_ACTIVE', `entitlement starts at ${e.validFrom}`);
  if (e.status === 'expired') return deny(e, 'EXPIRED', `entitlement expired at ${e.validUntil}`);
  let inGrace = false;
  if (e.validUntilMs !== null && at >= e.validUntilMs) {
    if (at >= e.graceEndsMs!) return deny(e, 'EXPIRED', `entitlement expired at ${e.validUntil}`);
    inGrace = true;
  }

  const grant = e.features[req.feature];
  if (!grant) {
    return deny(e, 'FEATURE_NOT_INCLUDED', `plan ${e.planId} does not include ${req.feature}`, null, ctx.catalog ? hintForMissingFeature(ctx.catalog, req.feature, e.productId, e.tier) : null);
  }
  if (req.region !== undefined && e.regions !== null && !e.regions.has(req.region)) {
    return deny(e, 'REGION_BLOCKED', `use from ${req.region} is not allowed (allowed: ${[...e.regions].join(', ')})`);
  }
  if (req.userId !== undefined && !e.seatHolders.has(req.userId)) {
    return deny(e, 'SEAT_NOT_ASSIGNED', `user ${req.userId} holds no seat (${e.seatHolders.size}/${e.seats} assigned)`);
  }
  if (req.deviceId !== undefined && !e.devices.has(req.deviceId)) {
    return deny(e, 'DEVICE_LIMIT', `device ${req.deviceId} is not activated on this entitlement`);
  }

  const quantity = req.quantity ?? 1;
  let remaining: number | null = null;
  let overage = false;
  const cap = capOf(grant);
  if (cap !== null) {
    // A credit never takes usage below zero, so never lifts a cap beyond what was bought.
    const used = Math.max(0, ctx.usage?.(e.entitlementId, req.feature, grant.meter?.period ?? null, at) ?? 0);
    // A MAX meter's value after this use is the higher of the two, not their sum.
    const after = grant.meter?.aggregation === 'max' ? Math.max(used, quantity) : used + quantity;
    if (after > cap) {
      if (grant.meter?.capType === 'soft') {
        overage = true;
      } else {
        return deny(e, 'USAGE_CAP_REACHED', `${req.feature}: ${used} of ${cap} used, ${quantity} ${grant.meter?.aggregation === 'max' ? 'requested' : 'more requested'}`, Math.max(0, cap - used), ctx.catalog ? hintForCap(ctx.catalog, e, req.feature, cap) : null);
      }
    }
    remaining = Math.max(0, cap - after);
  }
  if (inGrace) return decision(true, 'IN_GRACE', e.entitlementId, remaining, e.validUntil, null, `expired at ${e.validUntil}, in grace until ${e.graceEndsAt}`);
  // Over a soft cap is the moment to offer the plan or add-on that lifts it.
  if (overage) return decision(true, 'OVERAGE', e.entitlementId, remaining, e.validUntil, ctx.catalog ? hintForCap(ctx.catalog, e, req.feature, cap!) : null, `${req.feature} is over its soft cap of ${cap}; usage is billed as overage`);
  return decision(true, 'OK', e.entitlementId, remaining, e.validUntil, null, 'ok');
}

function capOf(grant: FeatureGrant): number | null {
  if (grant.meter) return grant.meter.cap;
  if (grant.limit !== undefined) return grant.limit;
  return null;
}

function hintForMissingFeature(catalog: Catalog, feature: string, productId: string | null, tier: number): UpgradeHint | null {
  const products = productId ? catalog.products.filter((p) => p.id === productId) : catalog.products;
  for (const product of products) {
    const plan = lowestPlan(product, tier, (g) => g !== undefined, feature);
    if (plan) return plan;
    const addOn = catalog.addOns.find((a) => a.productId === product.id && a.features[feature] !== undefined);
    if (addOn) return { kind: 'add_on', sku: addOn.sku, name: addOn.name, productId: product.id };
  }
  // The feature belongs to another product: name its entry plan.
  if (productId) return hintForMissingFeature(catalog, feature, null, -1);
  return null;
}

/** The plan (lowest tier above the entitlement's) or add-on of its product that lifts a feature's cap: the upgrade to offer at a cap or near it. */
export function hintForCap(catalog: Catalog, e: Pick<CheckSubject, 'productId' | 'tier'>, feature: string, currentCap: number): UpgradeHint | null {
  const product = catalog.products.find((p) => p.id === e.productId);
  if (!product) return null;
  const plan = lowestPlan(product, e.tier, (g) => g !== undefined && (capOf(g) ?? Infinity) > currentCap, feature);
  if (plan) return plan;
  const addOn = catalog.addOns.find(
    (a) => a.productId === product.id && (a.features[feature]?.meter !== undefined || a.features[feature]?.limit !== undefined),
  );
  return addOn ? { kind: 'add_on', sku: addOn.sku, name: addOn.name, productId: product.id } : null;
}

function lowestPlan(
  product: ProductSpec,
  aboveTier: number,
  accepts: (g: FeatureGrant | undefined) => boolean,
  feature: string,
): UpgradeHint | null {
  const candidates = product.plans
    .filter((p) => p.tier > aboveTier && accepts(p.features[feature]))
    .sort((a, b) => a.tier - b.tier);
  const plan = candidates[0];
  return plan ? { kind: 'plan', sku: plan.sku, name: plan.name, productId: product.id } : null;
}
