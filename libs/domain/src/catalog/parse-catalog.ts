import type { Term } from '../shared/time';
import type {
  AddOnGrant,
  AddOnSpec,
  CapType,
  Catalog,
  FeatureDefinition,
  FeatureGrant,
  MeterPeriod,
  MeterSpec,
  PlanSpec,
  ProductSpec,
  Aggregation,
  UniqueField,
} from './catalog';

export interface CatalogIssue {
  /** Where in the document, e.g. `products[0].plans[1].features.api_calls.meter.cap`. */
  readonly path: string;
  readonly message: string;
}

export type CatalogParseResult =
  | { readonly ok: true; readonly catalog: Catalog }
  | { readonly ok: false; readonly issues: readonly CatalogIssue[] };

const ID = /^[a-z][a-z0-9_.-]{0,63}$/;
const SKU = /^[A-Z0-9][A-Z0-9_-]{0,63}$/;
const REGION = /^[A-Z]{2,8}$/;
const PERIODS: readonly MeterPeriod[] = ['day', 'month', 'year'];
const CAP_TYPES: readonly CapType[] = ['hard', 'soft'];
const AGGREGATIONS: readonly Aggregation[] = ['sum', 'count', 'max', 'unique_count'];
const UNIQUE_FIELDS: readonly UniqueField[] = ['userId', 'deviceId'];

type Obj = Record<string, unknown>;

/**
 * Validates a catalog document (already parsed from YAML or JSON) and returns
 * either the typed catalog or every problem found, each naming its path.
 */
export function parseCatalog(input: unknown): CatalogParseResult {
  const v = new Validator();
  const catalog = v.catalog(input);
  return v.issues.length === 0 && catalog ? { ok: true, catalog } : { ok: false, issues: v.issues };
}

/** parseCatalog in the `{ ok, value }` shape that document loaders take. */
export function catalogDocument(input: unknown): { readonly ok: true; readonly value: Catalog } | { readonly ok: false; readonly issues: readonly CatalogIssue[] } {
  const result = parseCatalog(input);
  return result.ok ? { ok: true, value: result.catalog } : result;
}

export function formatCatalogIssues(issues: readonly CatalogIssue[]): string {
  return issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n');
}

class Validator {
  readonly issues: CatalogIssue[] = [];

  private fail(path: string, message: string): undefined {
    this.issues.push({ path, message });
    return undefined;
  }

  private obj(value: unknown, path: string): Obj | undefined {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return this.fail(path, `must be an object, got ${describe(value)}`);
    }
    return value as Obj;
  }

  private unknownKeys(o: Obj, allowed: readonly string[], path: string): void {
    for (const key of Object.keys(o)) {
      if (!allowed.includes(key)) this.fail(join(path, key), `unknown field (allowed: ${allowed.join(', ')})`);
    }
  }

  private str(o: Obj, key: string, path: string, pattern?: RegExp, hint?: string): string | undefined {
    const value = o[key];
    const p = join(path, key);
    if (typeof value !== 'string' || value.length === 0) return this.fail(p, `must be a non-empty string, got ${describe(value)}`);
    // A lone surrogate is no text: it has no canonical JSON form, and the published catalog is an event the audit log hashes.
    if (!(value as string & { isWellFormed(): boolean }).isWellFormed()) return this.fail(p, 'must be well-formed Unicode text: it holds a lone surrogate');
    if (pattern && !pattern.test(value)) return this.fail(p, `must match ${hint ?? pattern.source}, got "${value}"`);
    return value;
  }

  private int(o: Obj, key: string, path: string, min: number, fallback?: number): number | undefined {
    const value = o[key];
    const p = join(path, key);
    if (value === undefined && fallback !== undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      return this.fail(p, `must be an integer >= ${min}, got ${describe(value)}`);
    }
    return value;
  }

  catalog(input: unknown): Catalog | undefined {
    const root = this.obj(input, '');
    if (!root) return undefined;
    this.unknownKeys(root, ['label', 'products', 'addOns'], '');
    const label = root['label'] === undefined ? 'unlabelled' : this.str(root, 'label', '');
    if (!Array.isArray(root['products']) || root['products'].length === 0) {
      this.fail('products', 'must be a non-empty list of products');
      return undefined;
    }
    const products = root['products'].map((p, i) => this.product(p, `products[${i}]`));
    const rawAddOns = root['addOns'] ?? [];
    if (!Array.isArray(rawAddOns)) {
      this.fail('addOns', `must be a list, got ${describe(rawAddOns)}`);
      return undefined;
    }
    // Cross-references (add-on products, SKU uniqueness) are checked against the
    // raw document, so one broken plan does not cascade into misleading errors.
    const refs = productRefs(root['products']);
    const addOns = rawAddOns.map((a, i) => this.addOn(a, `addOns[${i}]`, refs));
    this.uniqueness(root['products'], rawAddOns);
    if (this.issues.length > 0 || label === undefined) return undefined;
    return { label, products: products as ProductSpec[], addOns: addOns as AddOnSpec[] };
  }

  private product(input: unknown, path: string): ProductSpec | undefined {
    const o = this.obj(input, path);
    if (!o) return undefined;
    this.unknownKeys(o, ['id', 'name', 'features', 'plans'], path);
    const id = this.str(o, 'id', path, ID, 'a lower-case id like "analytics"');
    const name = this.str(o, 'name', path);
    const featuresObj = this.obj(o['features'], join(path, 'features'));
    const features: Record<string, FeatureDefinition> = {};
    if (featuresObj) {
      if (Object.keys(featuresObj).length === 0) this.fail(join(path, 'features'), 'must declare at least one feature');
      for (const [key, raw] of Object.entries(featuresObj)) {
        const fp = featurePath(path, key);
        if (!ID.test(key)) this.fail(fp, 'feature keys must be lower-case ids like "reports.export"');
        const def = this.obj(raw, fp);
        if (!def) continue;
        this.unknownKeys(def, ['name', 'unit'], fp);
        const fname = this.str(def, 'name', fp);
        const unit = def['unit'] === undefined ? undefined : this.str(def, 'unit', fp);
        if (fname) features[key] = unit ? { name: fname, unit } : { name: fname };
      }
    }
    if (!Array.isArray(o['plans']) || o['plans'].length === 0) {
      this.fail(join(path, 'plans'), 'must be a non-empty list of plans');
      return undefined;
    }
    const plans = o['plans'].map((p, i) => this.plan(p, `${path}.plans[${i}]`, features));
    const tiers = new Map<number, number>();
    plans.forEach((p, i) => {
      if (!p) return;
      const seen = tiers.get(p.tier);
      if (seen !== undefined) this.fail(`${path}.plans[${i}].tier`, `tier ${p.tier} is already used by plans[${seen}]`);
      tiers.set(p.tier, i);
    });
    // A plan change keeps the period's counter, so every plan must count a meter the same way.
    const counted = new Map<string, { plan: number; how: string }>();
    plans.forEach((p, i) => {
      for (const [feature, grant] of Object.entries(p?.features ?? {})) {
        if (!grant.meter) continue;
        const how = describeAggregation(grant.meter);
        const first = counted.get(feature);
        if (!first) counted.set(feature, { plan: i, how });
        else if (first.how !== how) this.fail(`${featurePath(`${path}.plans[${i}]`, feature)}.meter.aggregation`, `plans[${first.plan}] aggregates "${feature}" as ${first.how}; every plan of a product must count a meter the same way (a plan change keeps the period's counter)`);
      }
    });
    if (!id || !name || !featuresObj || plans.some((p) => !p)) return undefined;
    return { id, name, features, plans: plans as PlanSpec[] };
  }

  private plan(input: unknown, path: string, declared: Record<string, FeatureDefinition>): PlanSpec | undefined {
    const o = this.obj(input, path);
    if (!o) return undefined;
    this.unknownKeys(
      o,
      ['id', 'sku', 'name', 'tier', 'term', 'graceDays', 'seatsPerUnit', 'maxDevicesPerSeat', 'regions', 'features'],
      path,
    );
    const id = this.str(o, 'id', path, ID, 'a lower-case id like "pro"');
    const sku = this.str(o, 'sku', path, SKU, 'an upper-case SKU like "ANL-PRO"');
    const name = this.str(o, 'name', path);
    const tier = this.int(o, 'tier', path, 0);
    const term = this.term(o['term'], join(path, 'term'));
    const graceDays = this.int(o, 'graceDays', path, 0, 0);
    const seatsPerUnit = this.int(o, 'seatsPerUnit', path, 1, 1);
    const maxDevicesPerSeat =
      o['maxDevicesPerSeat'] === undefined || o['maxDevicesPerSeat'] === null
        ? null
        : this.int(o, 'maxDevicesPerSeat', path, 1);
    const regions = this.regions(o['regions'], join(path, 'regions'));
    const featuresObj = this.obj(o['features'], join(path, 'features'));
    const features: Record<string, FeatureGrant> = {};
    if (featuresObj) {
      for (const [key, raw] of Object.entries(featuresObj)) {
        const fp = featurePath(path, key);
        if (!declared[key]) {
          this.fail(fp, `feature "${key}" is not declared in the product's features`);
          continue;
        }
        const grant = this.featureGrant(raw ?? {}, fp);
        if (grant) features[key] = grant;
      }
    }
    if (
      !id || !sku || !name || tier === undefined || term === undefined || graceDays === undefined ||
      seatsPerUnit === undefined || maxDevicesPerSeat === undefined || regions === undefined || !featuresObj
    ) {
      return undefined;
    }
    return { id, sku, name, tier, term, graceDays, seatsPerUnit, maxDevicesPerSeat, regions, features };
  }

  private term(value: unknown, path: string): Term | null | undefined {
    if (value === 'perpetual') return null;
    const o = this.obj(value, path);
    if (!o) return this.fail(path, 'must be "perpetual" or one of {days: n}, {months: n}, {years: n}');
    const keys = Object.keys(o);
    if (keys.length !== 1 || !['days', 'months', 'years'].includes(keys[0]!)) {
      return this.fail(path, 'must be "perpetual" or exactly one of {days: n}, {months: n}, {years: n}');
    }
    const key = keys[0]!;
    const count = this.int(o, key, path, 1);
    if (count === undefined) return undefined;
    return { unit: key === 'days' ? 'day' : key === 'months' ? 'month' : 'year', count };
  }

  private regions(value: unknown, path: string): readonly string[] | null | undefined {
    if (value === undefined || value === null) return null;
    if (!Array.isArray(value) || value.length === 0) return this.fail(path, 'must be a non-empty list of region codes, or omitted for everywhere');
    let ok = true;
    value.forEach((r, i) => {
      if (typeof r !== 'string' || !REGION.test(r)) {
        ok = false;
        this.fail(`${path}[${i}]`, `must be an upper-case region code like "EU", got ${describe(r)}`);
      }
    });
    return ok ? (value as string[]) : undefined;
  }

  private featureGrant(raw: unknown, path: string): FeatureGrant | undefined {
    const o = this.obj(raw, path);
    if (!o) return undefined;
    this.unknownKeys(o, ['limit', 'meter'], path);
    const out: { limit?: number; meter?: MeterSpec } = {};
    if (o['limit'] !== undefined) {
      const limit = this.int(o, 'limit', path, 0);
      if (limit === undefined) return undefined;
      out.limit = limit;
    }
    if (o['meter'] !== undefined) {
      const mp = join(path, 'meter');
      const m = this.obj(o['meter'], mp);
      if (!m) return undefined;
      this.unknownKeys(m, ['period', 'cap', 'capType', 'aggregation', 'of'], mp);
      const period = this.oneOf(m, 'period', mp, PERIODS);
      const cap = this.int(m, 'cap', mp, 0);
      const capType = this.oneOf(m, 'capType', mp, CAP_TYPES);
      const aggregation = this.aggregation(m, mp);
      if (period === undefined || cap === undefined || capType === undefined || aggregation === undefined) return undefined;
      out.meter = { period, cap, capType, ...aggregation };
    }
    return out;
  }

  /** `aggregation` (default sum) and, for unique_count, `of`: the field whose distinct values count. */
  private aggregation(m: Obj, path: string): { aggregation?: Aggregation; of?: UniqueField } | undefined {
    if (m['aggregation'] === undefined) {
      if (m['of'] !== undefined) return this.fail(join(path, 'of'), 'is only for aggregation: unique_count');
      return {};
    }
    const aggregation = this.oneOf(m, 'aggregation', path, AGGREGATIONS);
    if (aggregation === undefined) return undefined;
    if (aggregation === 'unique_count') {
      const of = this.oneOf(m, 'of', path, UNIQUE_FIELDS);
      return of === undefined ? undefined : { aggregation, of };
    }
    if (m['of'] !== undefined) return this.fail(join(path, 'of'), 'is only for aggregation: unique_count');
    return aggregation === 'sum' ? {} : { aggregation };
  }

  private oneOf<T extends string>(o: Obj, key: string, path: string, allowed: readonly T[]): T | undefined {
    const value = o[key];
    if (typeof value !== 'string' || !allowed.includes(value as T)) {
      return this.fail(join(path, key), `must be one of ${allowed.join(', ')}, got ${describe(value)}`);
    }
    return value as T;
  }

  private addOn(input: unknown, path: string, products: readonly ProductRef[]): AddOnSpec | undefined {
    const o = this.obj(input, path);
    if (!o) return undefined;
    this.unknownKeys(o, ['id', 'sku', 'name', 'product', 'features'], path);
    const id = this.str(o, 'id', path, ID, 'a lower-case id like "ai-insights"');
    const sku = this.str(o, 'sku', path, SKU, 'an upper-case SKU like "ANL-ADDON-AI"');
    const name = this.str(o, 'name', path);
    const productId = this.str(o, 'product', path);
    const product = products.find((p) => p.id === productId);
    if (productId && !product) this.fail(join(path, 'product'), `unknown product "${productId}"`);
    const featuresObj = this.obj(o['features'], join(path, 'features'));
    const features: Record<string, AddOnGrant> = {};
    if (featuresObj && product) {
      if (Object.keys(featuresObj).length === 0) this.fail(join(path, 'features'), 'an add-on must grant at least one feature');
      for (const [key, raw] of Object.entries(featuresObj)) {
        const fp = featurePath(path, key);
        if (!product.features.has(key)) {
          this.fail(fp, `feature "${key}" is not declared by product "${product.id}"`);
          continue;
        }
        const g = this.obj(raw ?? {}, fp);
        if (!g) continue;
        this.unknownKeys(g, ['limit', 'meter'], fp);
        const grant: { limit?: number; meter?: AddOnGrant['meter'] } = {};
        if (g['limit'] !== undefined) {
          const limit = this.int(g, 'limit', fp, 1);
          if (limit !== undefined) grant.limit = limit;
        }
        if (g['meter'] !== undefined) {
          const mp = join(fp, 'meter');
          const m = this.obj(g['meter'], mp);
          if (!m) continue;
          this.unknownKeys(m, ['period', 'cap', 'capType', 'aggregation', 'of'], mp);
          const cap = this.int(m, 'cap', mp, 1);
          const aggregation = this.aggregation(m, mp);
          const planAggregation = product.aggregations.get(key);
          if (aggregation && product.metered.has(key) && m['aggregation'] !== undefined && describeAggregation(aggregation) !== describeAggregation(planAggregation ?? {})) {
            this.fail(join(mp, 'aggregation'), `the plans of "${product.id}" aggregate "${key}" as ${describeAggregation(planAggregation ?? {})}; an add-on cannot count it another way`);
          }
          const period = m['period'] === undefined ? undefined : this.oneOf(m, 'period', mp, PERIODS);
          const capType = m['capType'] === undefined ? undefined : this.oneOf(m, 'capType', mp, CAP_TYPES);
          const meteredByAPlan = product.metered.has(key);
          if (!meteredByAPlan && (period === undefined || capType === undefined)) {
            this.fail(mp, `no plan of "${product.id}" meters "${key}", so the add-on must state period and capType`);
          }
          if (cap !== undefined) {
            grant.meter = { cap, ...(period ? { period } : {}), ...(capType ? { capType } : {}), ...(planAggregation ?? aggregation ?? {}) };
          }
        }
        features[key] = grant;
      }
    }
    if (!id || !sku || !name || !productId || !product || !featuresObj) return undefined;
    return { id, sku, name, productId, features };
  }

  private uniqueness(rawProducts: readonly unknown[], rawAddOns: readonly unknown[]): void {
    const productIds = new Map<string, number>();
    rawProducts.forEach((p, i) => {
      const id = field(p, 'id');
      if (id === undefined) return;
      const prev = productIds.get(id);
      if (prev !== undefined) this.fail(`products[${i}].id`, `duplicate product id "${id}" (also products[${prev}])`);
      else productIds.set(id, i);
    });
    const skus = new Map<string, string>();
    const claim = (item: unknown, path: string) => {
      const sku = field(item, 'sku');
      if (sku === undefined) return;
      const prev = skus.get(sku);
      if (prev !== undefined) this.fail(path, `duplicate SKU "${sku}" (also ${prev})`);
      else skus.set(sku, path);
    };
    rawProducts.forEach((p, i) => {
      const plans = (p as Obj | null)?.['plans'];
      if (Array.isArray(plans)) plans.forEach((plan, j) => claim(plan, `products[${i}].plans[${j}].sku`));
    });
    rawAddOns.forEach((a, i) => claim(a, `addOns[${i}].sku`));
  }
}

interface ProductRef {
  readonly id: string;
  readonly features: ReadonlySet<string>;
  /** Features some plan of the product meters. */
  readonly metered: ReadonlySet<string>;
  /** How the product's plans aggregate each metered feature, when not by sum (the plans agree; checked per product). */
  readonly aggregations: ReadonlyMap<string, { aggregation: Aggregation; of?: UniqueField }>;
}

function describeAggregation(m: { aggregation?: Aggregation; of?: UniqueField }): string {
  return m.aggregation === 'unique_count' ? `unique_count of ${m.of}` : (m.aggregation ?? 'sum');
}

function productRefs(rawProducts: readonly unknown[]): ProductRef[] {
  const refs: ProductRef[] = [];
  for (const p of rawProducts) {
    const id = field(p, 'id');
    if (id === undefined) continue;
    const o = p as Obj;
    const features = new Set(isObj(o['features']) ? Object.keys(o['features']) : []);
    const metered = new Set<string>();
    const aggregations = new Map<string, { aggregation: Aggregation; of?: UniqueField }>();
    if (Array.isArray(o['plans'])) {
      for (const plan of o['plans']) {
        const pf = isObj(plan) ? plan['features'] : undefined;
        if (!isObj(pf)) continue;
        for (const [k, g] of Object.entries(pf)) {
          if (!isObj(g) || g['meter'] === undefined) continue;
          metered.add(k);
          const m = g['meter'];
          if (isObj(m) && AGGREGATIONS.includes(m['aggregation'] as Aggregation) && m['aggregation'] !== 'sum' && !aggregations.has(k)) {
            const of = UNIQUE_FIELDS.includes(m['of'] as UniqueField) ? { of: m['of'] as UniqueField } : {};
            aggregations.set(k, { aggregation: m['aggregation'] as Aggregation, ...(m['aggregation'] === 'unique_count' ? of : {}) });
          }
        }
      }
    }
    refs.push({ id, features, metered, aggregations });
  }
  return refs;
}

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function field(v: unknown, key: string): string | undefined {
  const value = isObj(v) ? v[key] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** `features.dashboards`, or `features["reports.export"]` when the key itself has dots. */
function featurePath(path: string, key: string): string {
  return join(path, 'features') + (/^[a-z0-9_-]+$/i.test(key) ? `.${key}` : `["${key}"]`);
}

function join(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('.');
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `"${value.length > 40 ? value.slice(0, 40) + '…' : value}"`;
  if (typeof value === 'object') return 'an object';
  return String(value);
}
