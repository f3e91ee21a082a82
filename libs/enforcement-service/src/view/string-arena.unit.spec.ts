import fc from 'fast-check';
import { NO_REF, StringArena } from './string-arena';

/** An arena whose owners are the indexes of `refs`, as a column of references is. */
function owned(chunkBytes: number) {
  const refs: number[] = [];
  let moves = 0;
  const arena = new StringArena(
    {
      refOf: (owner) => refs[owner] ?? NO_REF,
      moved: (owner, ref) => {
        moves += 1;
        refs[owner] = ref;
      },
    },
    chunkBytes,
  );
  return { arena, refs, moves: () => moves };
}

const stringArb = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }), // multi-byte UTF-8, surrogate pairs
  fc.string({ unit: 'binary', maxLength: 6 }), // lone surrogates: UTF-8 cannot carry them
  fc.constantFrom('', 'ent-00000001', 'a\u0000b', 'x'.repeat(11)), // 11 code units: more than 128 / 12, kept as a string
);

describe('StringArena (strings as bytes outside the heap)', () => {
  it('gives back every string as kept while strings are replaced and freed, moving the survivors of emptied buffers (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.option(stringArb, { nil: null })), { maxLength: 300 }), (ops) => {
        const { arena, refs } = owned(128);
        const model = new Map<number, string>();
        for (const [owner, s] of ops) {
          const before = refs[owner] ?? NO_REF;
          refs[owner] = NO_REF; // the owner names nothing before its bytes are freed
          if (before !== NO_REF) arena.free(before);
          model.delete(owner);
          if (s !== null) {
            refs[owner] = arena.add(s, owner);
            model.set(owner, s);
          }
          for (const [o, kept] of model) {
            expect(arena.get(refs[o]!)).toBe(kept);
            expect(arena.equals(refs[o]!, kept)).toBe(true);
            expect(arena.equals(refs[o]!, `${kept}!`)).toBe(false);
            if (kept.length > 0) expect(arena.equals(refs[o]!, `?${kept.slice(1)}`)).toBe(kept.startsWith('?'));
            // Its UTF-8 bytes read as Latin-1: as many code units as the bytes held, equal only when ASCII.
            const misread = Buffer.from(kept, 'utf8').toString('latin1');
            expect(arena.equals(refs[o]!, misread)).toBe(misread === kept);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('does not keep freed bytes for long: a buffer left under a quarter full is emptied and dropped', () => {
    const { arena, refs, moves } = owned(1024);
    // 100 owners replace their 10-byte strings 1,000 times: 1.8 MB written, 1.8 KB live at any time.
    for (let round = 0; round < 1_000; round++) {
      for (let owner = 0; owner < 100; owner++) {
        const before = refs[owner] ?? NO_REF;
        refs[owner] = NO_REF;
        if (before !== NO_REF) arena.free(before);
        refs[owner] = arena.add(`${owner}`.padStart(4, '0') + String(round).padStart(6, '0'), owner);
      }
    }
    for (let owner = 0; owner < 100; owner++) expect(arena.get(refs[owner]!)).toBe(`${owner}`.padStart(4, '0') + '000999');
    expect(moves()).toBeGreaterThan(0);
    expect(arena.bytes).toBeLessThanOrEqual(8 * 1024);
  });

  it('keeps strings nobody owns for good (ids), and tells strings apart byte by byte', () => {
    const arena = new StringArena(null, 1024);
    const ids = Array.from({ length: 5_000 }, (_, i) => `ent-${i}`);
    const refs = ids.map((id) => arena.add(id));
    ids.forEach((id, i) => {
      expect(arena.get(refs[i]!)).toBe(id);
      expect(arena.equals(refs[i]!, id)).toBe(true);
      expect(arena.equals(refs[i]!, ids[(i + 1) % ids.length]!)).toBe(false);
    });
    expect(arena.equals(arena.add('é'), 'é')).toBe(true); // two bytes, one code unit
    expect(arena.equals(arena.add('é'), 'e')).toBe(false);
    expect(arena.equals(arena.add('é'), 'Ã©')).toBe(false); // two code units, the same two bytes read as Latin-1
    expect(arena.equals(arena.add('日'), '\u00e6\u0097\u00a5')).toBe(false);
  });
});
