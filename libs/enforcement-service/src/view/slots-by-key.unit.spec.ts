import fc from 'fast-check';
import { SlotsByKey } from './slots-by-key';

/** The index checked against Map<key, Set<slot>> for every key ever used. */
function expectSame(index: SlotsByKey, model: Map<number, Set<number>>, keys: Iterable<number>): void {
  for (const key of keys) expect(index.get(key).sort((a, b) => a - b)).toEqual([...(model.get(key) ?? [])].sort((a, b) => a - b));
  expect(index.size).toBe([...model.values()].filter((slots) => slots.size > 0).length);
}

describe('SlotsByKey (a users\' index in typed arrays)', () => {
  it('holds the same slots per key as a Map of Sets through adds and deletes (fast-check)', () => {
    // Keys of one shard (multiples of 1,024) whose homes crowd a few places, and keys of other shards.
    const keyArb = fc.oneof(fc.integer({ min: 0, max: 40 }).map((k) => k * 1024), fc.integer({ min: 0, max: 5 }), fc.constantFrom(-1024, 2 ** 30 - 1024));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), keyArb, fc.integer({ min: 0, max: 6 })), { maxLength: 400 }), (ops) => {
        const index = new SlotsByKey();
        const model = new Map<number, Set<number>>();
        const used = new Set<number>();
        for (const [add, key, slot] of ops) {
          used.add(key);
          const slots = model.get(key) ?? new Set<number>();
          model.set(key, slots);
          if (add && !slots.has(slot)) {
            index.add(key, slot);
            slots.add(slot);
          } else if (!add) {
            index.delete(key, slot);
            slots.delete(slot);
          }
          expectSame(index, model, used);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps every key findable while half a million come and go (growth, and places moved back on delete)', () => {
    const index = new SlotsByKey();
    const model = new Map<number, Set<number>>();
    const key = (n: number) => Math.imul(n, 0x9e3779b1) >>> 2;
    for (let n = 0; n < 300_000; n++) {
      index.add(key(n), n);
      model.set(key(n), new Set([n]));
      if (n % 3 === 0) {
        index.add(key(n), n + 1); // a second slot: a chain
        model.get(key(n))!.add(n + 1);
      }
    }
    for (let n = 0; n < 300_000; n += 2) {
      index.delete(key(n), n);
      model.get(key(n))!.delete(n);
    }
    for (let n = 300_000; n < 500_000; n++) {
      index.add(key(n), n);
      model.set(key(n), new Set([n]));
    }
    const sample = Array.from({ length: 50_000 }, (_, i) => key(i * 10 + (i % 7)));
    expectSame(index, model, sample);
  });
});
