import fc from 'fast-check';
import { StringIndex } from './string-index';

describe('StringIndex (strings to numbers, keeping no string)', () => {
  it('finds every key added and no other, through growth (fast-check)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ maxLength: 8 }), { maxLength: 400 }), fc.array(fc.string({ maxLength: 8 }), { maxLength: 50 }), (keys, probes) => {
        const index = new StringIndex((n, key) => keys[n] === key);
        keys.forEach((key, n) => index.add(key, n));
        expect(index.size).toBe(keys.length);
        keys.forEach((key, n) => expect(index.get(key)).toBe(n));
        for (const probe of probes) expect(index.get(probe)).toBe(keys.includes(probe) ? keys.indexOf(probe) : undefined);
      }),
      { numRuns: 200 },
    );
  });

  it('tells keys apart by what `matches` says when their hashes are equal', () => {
    const keys = Array.from({ length: 3_000 }, (_, i) => `customer-${i}`);
    // Every key has the same hash: one shard, one run of places, each confirmed by `matches`.
    const index = new StringIndex((n, key) => keys[n] === key, () => 7);
    keys.forEach((key, n) => index.add(key, n));
    keys.forEach((key, n) => expect(index.get(key)).toBe(n));
    expect(index.get('customer-3000')).toBeUndefined();
  });

  it('holds a million keys', () => {
    const key = (n: number) => `ent-${n.toString(36)}`;
    const index = new StringIndex((n, k) => key(n) === k);
    for (let n = 0; n < 1_000_000; n++) index.add(key(n), n);
    for (let n = 0; n < 1_000_000; n += 997) expect(index.get(key(n))).toBe(n);
    expect(index.get(key(1_000_000))).toBeUndefined();
  });
});
