import { createUpcaster, upcastEvent } from './upcaster';

describe('upcasting', () => {
  const upcast = createUpcaster({
    SeatsChanged: {
      1: (d: { count: number }) => ({ to: d.count }),
      2: (d: { to: number }) => ({ ...d, from: null }),
    },
  });
  const v1 = { type: 'SeatsChanged', data: { count: 4 }, metadata: { schemaVersion: 1 } };

  it('applies every step from the stored version to the newest', () => {
    expect(upcast(v1)).toEqual({ type: 'SeatsChanged', data: { to: 4, from: null }, metadata: { schemaVersion: 3 } });
  });
  it('leaves current and unknown events untouched (same object)', () => {
    const v3 = { type: 'SeatsChanged', data: { to: 1, from: 0 }, metadata: { schemaVersion: 3 } };
    expect(upcast(v3)).toBe(v3);
    const other = { type: 'Other', data: {}, metadata: { schemaVersion: 1 } };
    expect(upcast(other)).toBe(other);
  });
  it('changes nothing in the production table while all events are version 1', () => {
    const e = { type: 'EntitlementGranted', data: { a: 1 }, metadata: { schemaVersion: 1 } };
    expect(upcastEvent(e)).toBe(e);
  });
});
