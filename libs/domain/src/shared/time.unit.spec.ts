import { addDays, addMonths, addTerm, isIsoInstant } from './time';

describe('calendar arithmetic', () => {
  it('clamps month ends', () => {
    expect(addMonths('2026-01-31T12:00:00.000Z', 1)).toBe('2026-02-28T12:00:00.000Z');
    expect(addMonths('2028-01-31T00:00:00.000Z', 1)).toBe('2028-02-29T00:00:00.000Z');
    expect(addMonths('2026-11-30T00:00:00.000Z', 3)).toBe('2027-02-28T00:00:00.000Z');
  });
  it('adds terms in days, months and years', () => {
    expect(addTerm('2026-01-01T00:00:00.000Z', { unit: 'day', count: 30 })).toBe('2026-01-31T00:00:00.000Z');
    expect(addTerm('2026-01-01T00:00:00.000Z', { unit: 'year', count: 1 }, 2)).toBe('2028-01-01T00:00:00.000Z');
    expect(addDays('2026-12-31T23:00:00.000Z', 1)).toBe('2027-01-01T23:00:00.000Z');
  });
  it('recognises ISO instants only', () => {
    expect(isIsoInstant('2026-01-01T00:00:00Z')).toBe(true);
    expect(isIsoInstant('2026-01-01')).toBe(false);
    expect(isIsoInstant('tomorrow')).toBe(false);
  });
});
