import fc from 'fast-check';
import { expectEqual, propertyParams } from '@el/testing';
import { catalog, catalogDocument, meta } from '../__fixtures__/fixtures';
import { decidePublishCatalog, evolveCatalogHistory, initialCatalogHistory, type CatalogEvent } from './catalog.decider';
import { parseCatalog } from './parse-catalog';

/**
 * The catalog stream and the catalog parser under random input: versions are
 * dense and republishing what is in force records nothing; a document broken
 * anywhere is refused with an issue at (or above) the broken path, never
 * thrown at. Seeds: libs/testing/src/property.ts.
 */

type Path = readonly (string | number)[];

function pathsOf(value: unknown, at: Path = []): Path[] {
  if (value === null || typeof value !== 'object') return [at];
  const children = Array.isArray(value) ? value.map((v, i) => pathsOf(v, [...at, i])) : Object.entries(value).map(([k, v]) => pathsOf(v, [...at, k]));
  return [at, ...children.flat()];
}

function setAt(value: unknown, path: Path, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  if (Array.isArray(value)) return value.map((v, i) => (i === head ? setAt(v, rest, replacement) : v));
  const obj = value as Record<string, unknown>;
  return { ...obj, [head!]: setAt(obj[head as string], rest, replacement) };
}

function getAt(value: unknown, path: Path): unknown {
  return path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], value);
}

/** `products[0].plans[1].features.api_calls`, `features["reports.export"]`: the style of the parser's issue paths. */
const format = (path: Path) => path.map((k, i) => (typeof k === 'number' ? `[${k}]` : !/^[a-z0-9_-]+$/i.test(k) ? `["${k}"]` : i === 0 ? k : `.${k}`)).join('');

/** A value of another JSON type than `original`: what a careless editor or a hostile caller writes. */
function wrongType(original: unknown): fc.Arbitrary<unknown> {
  const all: Record<string, fc.Arbitrary<unknown>> = {
    string: fc.constantFrom('', 'x', '∀ℕ🙂', 'x'.repeat(5000)),
    number: fc.constantFrom(-1, 0, 1.5, 1e308),
    boolean: fc.boolean(),
    null: fc.constant(null),
    array: fc.constantFrom([], [original]),
    object: fc.constantFrom({}, { __proto__: { polluted: true } }, JSON.parse('{"__proto__":{"polluted":true}}') as unknown),
  };
  const kind = original === null ? 'null' : Array.isArray(original) ? 'array' : typeof original;
  const others = Object.entries(all).filter(([k]) => k !== kind).map(([, a]) => a);
  // Text with a lone surrogate is no text: it has no canonical JSON form, and a published catalog is an event.
  return typeof original === 'string' ? fc.oneof(...others, fc.constantFrom(`${original}\ud800`, `\udc00${original}`)) : fc.oneof(...others);
}

describe('Catalog under random input (fast-check)', () => {
  it('publishes dense versions, and republishing the catalog in force records nothing', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('h1', 'h2', 'h3'), { maxLength: 20 }), (hashes) => {
        let history = initialCatalogHistory;
        const published: CatalogEvent[] = [];
        for (const hash of hashes) {
          const events = decidePublishCatalog({ type: 'PublishCatalog', data: { catalog: catalog.catalog, hash }, metadata: meta() }, history);
          expectEqual(events.length, history.current?.hash === hash ? 0 : 1, () => `publishing ${hash} after ${JSON.stringify(published.map((e) => e.data.hash))}`);
          published.push(...events);
          history = events.reduce(evolveCatalogHistory, history);
        }
        expectEqual(
          { versions: published.map((e) => e.data.version), current: history.current?.hash ?? null },
          { versions: published.map((_, i) => i + 1), current: hashes.length > 0 ? hashes[hashes.length - 1]! : null },
        );
      }),
      propertyParams(200),
    );
  });

  it('refuses a document with a wrong type anywhere, naming the path, and never throws', () => {
    const paths = pathsOf(catalogDocument).filter((p) => p.length > 0);
    fc.assert(
      fc.property(
        fc.constantFrom(...paths).chain((path) => wrongType(getAt(catalogDocument, path)).map((value) => ({ path, value }))),
        ({ path, value }) => {
          // Null is documented for these: unlimited devices, every region, no add-ons, an on/off feature (`dashboards:` in YAML).
          const last = String(path[path.length - 1]);
          fc.pre(!(value === null && (last === 'maxDevicesPerSeat' || last === 'regions' || last === 'addOns' || (path[path.length - 2] === 'features' && (path.includes('plans') || path.includes('addOns'))))));
          const result = parseCatalog(setAt(catalogDocument, path, value));
          const where = format(path);
          if (result.ok) throw new Error(`accepted ${JSON.stringify(value)?.slice(0, 80)} at ${where}`);
          // The issue names the broken field, or the object it sits in (a map entry that must be an object, a term that must be one thing).
          const named = result.issues.some((i) => i.path === where || where.startsWith(`${i.path}.`) || where.startsWith(`${i.path}[`) || i.path.startsWith(`${where}.`) || i.path.startsWith(`${where}[`));
          expectEqual(named, true, () => `${where} := ${JSON.stringify(value)?.slice(0, 80)}\nissues: ${JSON.stringify(result.issues)}`);
        },
      ),
      propertyParams(400),
    );
  });
});
