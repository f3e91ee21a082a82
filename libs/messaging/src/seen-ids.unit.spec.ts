import { SeenIds } from './integration-events.port';

describe('SeenIds (the ids a consumer has handled, for dropping redeliveries)', () => {
  it('remembers the last `capacity` ids and forgets the oldest first', () => {
    const seen = new SeenIds(3);
    for (const id of ['a', 'b', 'c']) seen.add(id);
    expect(['a', 'b', 'c'].map((id) => seen.has(id))).toEqual([true, true, true]);
    seen.add('d');
    expect(['a', 'b', 'c', 'd'].map((id) => seen.has(id))).toEqual([false, true, true, true]);
    // An id seen again is not remembered twice: it does not push out another.
    seen.add('c');
    seen.add('e');
    expect(['b', 'c', 'd', 'e'].map((id) => seen.has(id))).toEqual([false, true, true, true]);
    expect(seen.has(null)).toBe(false);
    seen.add(null);
    expect(seen.has('c')).toBe(true);
  });

  it('keeps exactly the last `capacity` of a long run', () => {
    const seen = new SeenIds(1_000);
    for (let i = 0; i < 250_000; i++) seen.add(`m-${i}`);
    expect(seen.has('m-248999')).toBe(false);
    expect(seen.has('m-249000')).toBe(true);
    expect(seen.has('m-249999')).toBe(true);
  });
});
