import type { Term } from '../shared/time';

/** How often a metered feature's counter resets. */
export type MeterPeriod = 'day' | 'month' | 'year';
/** Hard caps deny past the cap; soft caps allow and report overage. */
export type CapType = 'hard' | 'soft';

/** How a meter's events become its value for a period: SUM of quantities (the default), COUNT of events, MAX quantity, or UNIQUE_COUNT of a field's values. */
export type Aggregation = 'sum' | 'count' | 'max' | 'unique_count';
/** The usage event field a UNIQUE_COUNT meter counts distinct values of. */
export type UniqueField = 'userId' | 'deviceId';
export const AGGREGATIONS: readonly Aggregation[] = ['sum', 'count', 'max', 'unique_count'];
export const UNIQUE_FIELDS: readonly UniqueField[] = ['userId', 'deviceId'];

export interface MeterSpec {
  readonly period: MeterPeriod;
  readonly cap: number;
  readonly capType: CapType;
  /** Absent means `sum` (entitlements recorded before aggregations existed read the same). */
  readonly aggregation?: Aggregation;
  /** With `unique_count`: the field whose distinct values are counted. */
  readonly of?: UniqueField;
}

/**
 * What a plan (or add-on) grants for one feature. An empty grant is a plain
 * on/off feature; `limit` caps a quantity (projects, workspaces); `meter`
 * caps usage per period (API calls per month).
 */
export interface FeatureGrant {
  readonly limit?: number;
  readonly meter?: MeterSpec;
}

export type FeatureSet = Readonly<Record<string, FeatureGrant>>;

export interface FeatureDefinition {
  readonly name: string;
  readonly unit?: string;
}

export interface PlanSpec {
  readonly id: string;
  readonly sku: string;
  readonly name: string;
  /** Higher tiers are upgrades of lower ones within the same product. */
  readonly tier: number;
  /** `null` for perpetual plans. */
  readonly term: Term | null;
  readonly graceDays: number;
  readonly seatsPerUnit: number;
  /** `null` when devices are not limited. */
  readonly maxDevicesPerSeat: number | null;
  /** Region codes where use is allowed; `null` means everywhere. */
  readonly regions: readonly string[] | null;
  readonly features: FeatureSet;
}

export interface ProductSpec {
  readonly id: string;
  readonly name: string;
  readonly features: Readonly<Record<string, FeatureDefinition>>;
  readonly plans: readonly PlanSpec[];
}

/**
 * An add-on grants features or raises limits on an entitlement of its product.
 * Limits and meter caps are increments per unit bought; a metered feature that
 * the plan lacks must state its period and cap type.
 */
export interface AddOnGrant {
  readonly limit?: number;
  readonly meter?: { readonly cap: number; readonly period?: MeterPeriod; readonly capType?: CapType; readonly aggregation?: Aggregation; readonly of?: UniqueField };
}

export interface AddOnSpec {
  readonly id: string;
  readonly sku: string;
  readonly name: string;
  readonly productId: string;
  readonly features: Readonly<Record<string, AddOnGrant>>;
}

export interface Catalog {
  /** Free-form label of the file's revision ("2026-11"), for people. */
  readonly label: string;
  readonly products: readonly ProductSpec[];
  readonly addOns: readonly AddOnSpec[];
}

/** A catalog as published in the ledger: versions are dense, starting at 1. */
export interface PublishedCatalog {
  readonly version: number;
  readonly hash: string;
  readonly catalog: Catalog;
}

export type SkuResolution =
  | { readonly kind: 'plan'; readonly product: ProductSpec; readonly plan: PlanSpec }
  | { readonly kind: 'add_on'; readonly product: ProductSpec; readonly addOn: AddOnSpec };

export function resolveSku(catalog: Catalog, sku: string): SkuResolution | null {
  for (const product of catalog.products) {
    const plan = product.plans.find((p) => p.sku === sku);
    if (plan) return { kind: 'plan', product, plan };
  }
  const addOn = catalog.addOns.find((a) => a.sku === sku);
  if (addOn) {
    const product = catalog.products.find((p) => p.id === addOn.productId);
    if (product) return { kind: 'add_on', product, addOn };
  }
  return null;
}

/** A meter's aggregation fields, omitted for the default (`sum`) so plain meters keep their shape. */
export function aggregationOf(m: Pick<MeterSpec, 'aggregation' | 'of'>): Pick<MeterSpec, 'aggregation' | 'of'> {
  if (!m.aggregation || m.aggregation === 'sum') return {};
  return m.aggregation === 'unique_count' && m.of ? { aggregation: m.aggregation, of: m.of } : { aggregation: m.aggregation };
}

/** Scales an add-on's grants by the quantity bought, filling meter defaults from the plan. */
export function addOnFeatures(addOn: AddOnSpec, quantity: number, planFeatures: FeatureSet): FeatureSet {
  const out: Record<string, FeatureGrant> = {};
  for (const [feature, grant] of Object.entries(addOn.features)) {
    const planMeter = planFeatures[feature]?.meter;
    const g: { limit?: number; meter?: MeterSpec } = {};
    if (grant.limit !== undefined) g.limit = grant.limit * quantity;
    if (grant.meter) {
      g.meter = {
        cap: grant.meter.cap * quantity,
        period: grant.meter.period ?? planMeter?.period ?? 'month',
        capType: grant.meter.capType ?? planMeter?.capType ?? 'hard',
        ...aggregationOf(planMeter ?? grant.meter),
      };
    }
    out[feature] = g;
  }
  return out;
}

/**
 * Combines a plan's grants with add-on grants: features are unioned, limits
 * and meter caps add up. A meter's period and cap type come from the plan when
 * it has the feature.
 */
export function mergeFeatures(base: FeatureSet, ...extras: FeatureSet[]): FeatureSet {
  const out: Record<string, FeatureGrant> = { ...base };
  for (const extra of extras) {
    for (const [feature, grant] of Object.entries(extra)) {
      const prev = out[feature];
      if (!prev) {
        out[feature] = grant;
        continue;
      }
      const merged: { limit?: number; meter?: MeterSpec } = {};
      if (prev.limit !== undefined || grant.limit !== undefined) {
        merged.limit = (prev.limit ?? 0) + (grant.limit ?? 0);
      }
      if (prev.meter || grant.meter) {
        merged.meter = {
          period: prev.meter?.period ?? grant.meter!.period,
          capType: prev.meter?.capType ?? grant.meter!.capType,
          cap: (prev.meter?.cap ?? 0) + (grant.meter?.cap ?? 0),
          ...aggregationOf(prev.meter ?? grant.meter!),
        };
      }
      out[feature] = merged;
    }
  }
  return out;
}
