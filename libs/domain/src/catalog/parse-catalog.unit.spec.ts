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
