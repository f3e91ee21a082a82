import { erpOrderSchemaV1, MAX_ORDER_LINES } from '@el/contracts';
import { compileSchema, nestedDeeperThan } from './json-schema';

/** The one order schema (POST /v1/orders and erp.orders.v1), as both entry points validate it. */
describe('JSON Schema validation: erp.orders.v1', () => {
  const validate = compileSchema(erpOrderSchemaV1);
  const line = { lineId: '1', sku: 'ANL-PRO', quantity: 1, action: 'new' };
  const order = (over: Record<string, unknown> = {}) => ({ orderId: 'SO-1', customerId: 'acme', lines: [line], ...over });
  const paths = (value: unknown) => validate(value).map((e) => e.path).sort();

  it.each([
    ['a minimal order', order()],
    ['with effectiveAt and an entitlementId', order({ effectiveAt: '2026-01-01T00:00:00Z', lines: [{ ...line, action: 'renew', entitlementId: 'e-1' }] })],
    [`${MAX_ORDER_LINES} lines`, order({ lines: Array.from({ length: MAX_ORDER_LINES }, (_, i) => ({ ...line, lineId: String(i) })) })],
  ])('accepts %s', (_name, value) => {
    expect(validate(value)).toEqual([]);
    expect(validate.isValid(value)).toBe(true);
  });

  it.each([
    ['no lines', order({ lines: [] }), ['lines']],
    ['too many lines', order({ lines: Array.from({ length: MAX_ORDER_LINES + 1 }, () => line) }), ['lines']],
    ['an unknown field', order({ priority: 'high' }), ['priority']],
    ['an unknown line field', order({ lines: [{ ...line, discount: 5 }] }), ['lines[0].discount']],
    ['a bad orderId', order({ orderId: 'SO 1' }), ['orderId']],
    ['an orderId of 129 characters', order({ orderId: 'a'.repeat(129) }), ['orderId']],
    ['a SKU of a megabyte', order({ lines: [{ ...line, sku: 'X'.repeat(1024 * 1024) }] }), ['lines[0].sku']],
    ['an empty SKU', order({ lines: [{ ...line, sku: '' }] }), ['lines[0].sku']],
    ['a fractional quantity', order({ lines: [{ ...line, quantity: 1.5 }] }), ['lines[0].quantity']],
    ['a zero quantity', order({ lines: [{ ...line, quantity: 0 }] }), ['lines[0].quantity']],
    ['a null quantity', order({ lines: [{ ...line, quantity: null }] }), ['lines[0].quantity']],
    ['an unknown action', order({ lines: [{ ...line, action: 'gift' }] }), ['lines[0].action']],
    ['a date that is not an instant', order({ effectiveAt: 'tomorrow' }), ['effectiveAt']],
    ['a missing customer', { orderId: 'SO-1', lines: [line] }, ['customerId']],
    ['a null customer', order({ customerId: null }), ['customerId']],
    ['a list instead of an object', [line], ['(body)']],
    // Found by the hostile-bodies fuzz test (apps/embedded): stored, such a SKU stopped the audit feed for good.
    ['a SKU with a lone surrogate', order({ lines: [{ ...line, sku: 'ANL-\ud800' }] }), ['lines[0].sku']],
  ])('refuses %s, naming the path', (_name, value, expected) => {
    expect(validate.isValid(value)).toBe(false);
    expect([...new Set(paths(value))]).toEqual(expected);
  });

  it('says why text with a lone surrogate is refused, and takes a well-formed emoji', () => {
    expect(validate(order({ lines: [{ ...line, sku: 'x\udc00' }] }))).toEqual([
      { path: 'lines[0].sku', constraint: 'wellFormedUnicode', message: 'lines[0].sku must be well-formed Unicode text: it holds a lone surrogate (\\ud800–\\udfff without its pair)' },
    ]);
    expect(validate(order({ lines: [{ ...line, sku: 'ANL-🙂' }] }))).toEqual([]);
  });

  it('names every bad field of a line at once', () => {
    expect(paths(order({ orderId: 'SO 1', lines: [{ lineId: '1', sku: '', quantity: 0, action: 'buy', colour: 'red' }], extra: true }))).toEqual([
      'extra',
      'lines[0].action',
      'lines[0].colour',
      'lines[0].quantity',
      'lines[0].sku',
      'orderId',
    ]);
  });

  it('does not walk into what it refuses at the top: a deeply nested unknown field is one problem', () => {
    let deep: unknown = {};
    for (let i = 0; i < 100_000; i++) deep = { d: deep };
    expect(paths(order({ extra: deep }))).toEqual(['extra']);
  });
});

describe('nestedDeeperThan', () => {
  const nest = (depth: number) => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { v };
    return v;
  };
  it('measures objects and arrays alike, scalars are depth 0', () => {
    expect(nestedDeeperThan(nest(32), 32)).toBe(false);
    expect(nestedDeeperThan(nest(33), 32)).toBe(true);
    expect(nestedDeeperThan('text', 0)).toBe(false);
    expect(nestedDeeperThan({ a: [1, 2, { b: null }] }, 3)).toBe(false);
    expect(nestedDeeperThan({ a: [1, 2, { b: {} }] }, 3)).toBe(true);
  });
  it('answers for a million levels without a stack', () => {
    expect(nestedDeeperThan(nest(1_000_000), 32)).toBe(true);
  });
  it('walks only what parsed JSON is made of: not the bytes of a Buffer, not an object the process made', () => {
    // A message as a consumer gets it: its value is bytes, which nest nothing (they were walked byte by byte).
    expect(nestedDeeperThan({ topic: 't', headers: { a: 'b' }, value: Buffer.alloc(1 << 20) }, 2)).toBe(false);
    class Made {
      readonly inner = nest(40);
    }
    expect(nestedDeeperThan(new Made(), 32)).toBe(false);
    expect(nestedDeeperThan({ made: new Made() }, 1)).toBe(false);
    // A plain object without a prototype (some JSON parsers make them) is JSON.
    const bare = Object.assign(Object.create(null) as object, { deep: nest(40) });
    expect(nestedDeeperThan(bare, 32)).toBe(true);
  });
});
