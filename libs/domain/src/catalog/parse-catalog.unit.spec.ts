import { catalogDocument } from '../__fixtures__/fixtures';
import { parseCatalog } from './parse-catalog';
import { decidePublishCatalog, evolveCatalogHistory, initialCatalogHistory } from './catalog.decider';
import { meta } from '../__fixtures__/fixtures';

const clone = () => JSON.parse(JSON.stringify(catalogDocument));

describe('parseCatalog', () => {
  it('accepts a valid catalog and fills defaults', () => {
    const r = parseCatalog(catalogDocument);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const free = r.catalog.products[0]!.plans[0]!;
    expect(free).toMatchObject({ term: null, graceDays: 0, seatsPerUnit: 1, maxDevicesPerSeat: null, regions: ['EU'] });
    expect(r.catalog.products[0]!.plans[1]!.term).toEqual({ unit: 'month', count: 12 });
  });

  it('refuses text with a lone surrogate, naming its path', () => {
    // Found by the catalog fuzz test (catalog.model.unit.spec.ts): published, such a name would stop the audit feed.
    const doc = clone();
    doc.products[0].name = 'Analytics\ud800';
    doc.addOns[0].name = '\udc00AI';
    const r = parseCatalog(doc);
    expect(r.ok ? [] : r.issues).toEqual([
      { path: 'products[0].name', message: 'must be well-formed Unicode text: it holds a lone surrogate' },
      { path: 'addOns[0].name', message: 'must be well-formed Unicode text: it holds a lone surrogate' },
    ]);
    doc.products[0].name = 'Analytics 🙂';
    doc.addOns[0].name = 'AI ∀';
    expect(parseCatalog(doc).ok).toBe(true);
  });

  it('names the path of every problem', () => {
    const doc = clone();
    doc.products[0].plans[1].features.api_calls.meter.cap = -5;
    doc.products[0].plans[2].sku = 'ANL-PRO';
    doc.products[0].plans[0].features.teleport = {};
    doc.products[1].plans[0].term = { weeks: 2 };
    doc.addOns[0].product = 'nope';
    doc.products[0].plans[0].regions = ['eu'];
    const r = parseCatalog(doc);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const paths = r.issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'products[0].plans[1].features.api_calls.meter.cap',
        'products[0].plans[2].sku',
        'products[0].plans[0].features.teleport',
        'products[1].plans[0].term',
        'addOns[0].product',
        'products[0].plans[0].regions[0]',
      ]),
    );
    expect(r.issues.find((i) => i.path === 'products[0].plans[2].sku')!.message).toContain('duplicate SKU "ANL-PRO"');
  });

  it('rejects unknown fields, duplicate tiers, and a non-object root', () => {
    const doc = clone();
    doc.products[0].plans[0].colour = 'blue';
    doc.products[0].plans[1].tier = 0;
    const r = parseCatalog(doc);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['products[0].plans[0].colour', 'products[0].plans[1].tier']));
    expect(parseCatalog('hello')).toEqual({ ok: false, issues: [{ path: '', message: 'must be an object, got "hello"' }] });
  });

  it('requires period and cap type on an add-on meter no plan defines', () => {
    const doc = clone();
    doc.addOns.push({ id: 'x', sku: 'VLT-X', name: 'x', product: 'vault', features: { secrets: { meter: { cap: 5 } } } });
    const r = parseCatalog(doc);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues[0]!.path).toBe('addOns[2].features.secrets.meter');
  });
});

describe('meter aggregations', () => {
  const withAggregation = (meters: Record<string, unknown>[]) => {
    const doc = clone();
    meters.forEach((m, i) => Object.assign(doc.products[0].plans[i].features.api_calls.meter, m));
    return doc;
  };

  it('reads count, max and unique_count (of a field); sum is the default and leaves the meter as it was', () => {
    const r = parseCatalog(withAggregation([{ aggregation: 'unique_count', of: 'userId' }, { aggregation: 'unique_count', of: 'userId' }, { aggregation: 'unique_count', of: 'userId' }]));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.catalog.products[0]!.plans[0]!.features['api_calls']!.meter).toEqual({ period: 'month', cap: 100, capType: 'hard', aggregation: 'unique_count', of: 'userId' });
    // The add-on inherits how the plans count the meter.
    expect(r.catalog.addOns.find((a) => a.id === 'api-10k')!.features['api_calls']!.meter).toMatchObject({ cap: 10000, aggregation: 'unique_count', of: 'userId' });
    const plain = parseCatalog(withAggregation([{ aggregation: 'sum' }]));
    expect(plain.ok && plain.catalog.products[0]!.plans[0]!.features['api_calls']!.meter).toEqual({ period: 'month', cap: 100, capType: 'hard' });
  });

  it('names the path of a bad aggregation, a missing or misplaced `of`, and plans that count one meter differently', () => {
    const cases: [Record<string, unknown>[], string, string][] = [
      [[{ aggregation: 'avg' }], 'products[0].plans[0].features.api_calls.meter.aggregation', 'must be one of sum, count, max, unique_count'],
      [[{ aggregation: 'unique_count' }], 'products[0].plans[0].features.api_calls.meter.of', 'must be one of userId, deviceId'],
      [[{ aggregation: 'max', of: 'userId' }], 'products[0].plans[0].features.api_calls.meter.of', 'only for aggregation: unique_count'],
      [[{}, { aggregation: 'count' }], 'products[0].plans[1].features.api_calls.meter.aggregation', 'plans[0] aggregates "api_calls" as sum'],
    ];
    for (const [meters, path, message] of cases) {
      const r = parseCatalog(withAggregation(meters));
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.issues).toEqual(expect.arrayContaining([{ path, message: expect.stringContaining(message) }]));
    }
  });

  it('refuses an add-on that counts a planned meter another way', () => {
    const doc = clone();
    doc.addOns.find((a: { id: string }) => a.id === 'api-10k').features.api_calls.meter.aggregation = 'max';
    const r = parseCatalog(doc);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues[0]).toEqual({ path: expect.stringMatching(/^addOns\[\d\]\.features\.api_calls\.meter\.aggregation$/), message: expect.stringContaining('aggregate "api_calls" as sum') });
  });
});

describe('catalog publishing', () => {
  const parsed = parseCatalog(catalogDocument);
  if (!parsed.ok) throw new Error('fixture');
  const cmd = (hash: string) => ({ type: 'PublishCatalog' as const, data: { catalog: parsed.catalog, hash }, metadata: meta() });

  it('publishes dense versions and ignores a republish of the same content', () => {
    const first = decidePublishCatalog(cmd('a'), initialCatalogHistory);
    expect(first[0]!.data.version).toBe(1);
    const h1 = first.reduce(evolveCatalogHistory, initialCatalogHistory);
    expect(decidePublishCatalog(cmd('a'), h1)).toEqual([]);
    const second = decidePublishCatalog(cmd('b'), h1);
    expect(second[0]!.data.version).toBe(2);
    const h2 = second.reduce(evolveCatalogHistory, h1);
    expect(h2.versions.map((v) => v.version)).toEqual([1, 2]);
    expect(h2.current!.hash).toBe('b');
  });
});
