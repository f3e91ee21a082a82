import { trimOldest } from './bounded-map';

describe('trimOldest', () => {
  it('keeps the newest `capacity` entries once more than a quarter (at least 16) more are held, the oldest going first', () => {
    const map = new Map<string, number>();
    for (let i = 0; i < 100; i++) {
      map.set(`k${i}`, i);
      trimOldest(map, 40);
      expect(map.size).toBeLessThanOrEqual(56);
    }
    // Trimmed at 57 entries back to 40, then filled again: the newest are always there.
    expect([...map.keys()].at(-1)).toBe('k99');
    expect(map.has('k99') && map.has('k60')).toBe(true);
    expect(map.has('k40')).toBe(false);
    const first = Number([...map.keys()][0]!.slice(1));
    expect([...map.keys()]).toEqual(Array.from({ length: 100 - first }, (_, i) => `k${first + i}`));
  });

  it('treats an entry moved to the end (deleted and set again) as the newest', () => {
    const map = new Map<string, number>();
    for (let i = 0; i < 20; i++) map.set(`k${i}`, i);
    map.delete('k0');
    map.set('k0', 0);
    for (let i = 20; i < 37; i++) map.set(`k${i}`, i);
    trimOldest(map, 20);
    expect(map.size).toBe(20);
    expect(map.has('k0')).toBe(true);
    expect(map.has('k1')).toBe(false);
  });
});
