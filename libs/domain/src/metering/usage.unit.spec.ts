import { aggregate, EMPTY_COUNTER, meterStanding, periodWindow } from './usage';

const at = (iso: string) => Date.parse(iso);

describe('metering periods, anchored at the entitlement start (UTC)', () => {
  it('monthly: from the anchor day to the same day next month, clamped to short months', () => {
    expect(periodWindow('2026-01-14T09:30:00.000Z', 'month', at('2026-03-20T00:00:00Z'))).toEqual({ start: '2026-03-14T09:30:00.000Z', end: '2026-04-14T09:30:00.000Z' });
    expect(periodWindow('2026-01-14T09:30:00.000Z', 'month', at('2026-03-14T09:29:59.999Z'))).toEqual({ start: '2026-02-14T09:30:00.000Z', end: '2026-03-14T09:30:00.000Z' });
    expect(periodWindow('2026-01-31T00:00:00.000Z', 'month', at('2026-02-28T12:00:00Z'))).toEqual({ start: '2026-02-28T00:00:00.000Z', end: '2026-03-31T00:00:00.000Z' });
    // The first period starts at the anchor itself.
    expect(periodWindow('2026-01-14T09:30:00.000Z', 'month', at('2026-01-14T09:30:00.000Z')).start).toBe('2026-01-14T09:30:00.000Z');
  });

  it('daily and yearly, also far from the anchor', () => {
    expect(periodWindow('2026-01-14T09:30:00.000Z', 'day', at('2026-05-01T08:00:00Z'))).toEqual({ start: '2026-04-30T09:30:00.000Z', end: '2026-05-01T09:30:00.000Z' });
    expect(periodWindow('2024-02-29T00:00:00.000Z', 'year', at('2031-06-01T00:00:00Z'))).toEqual({ start: '2031-02-28T00:00:00.000Z', end: '2032-02-29T00:00:00.000Z' });
  });
});

describe('aggregation', () => {
  it('sums, counts, keeps the maximum, or counts distinct values', () => {
    const run = (agg: Parameters<typeof aggregate>[1], qs: number[], firsts: boolean[] = qs.map(() => true)) => qs.reduce((c, q, i) => aggregate(c, agg, q, firsts[i]), EMPTY_COUNTER);
    expect(run('sum', [3, 4, 5])).toEqual({ value: 12, events: 3 });
    expect(run('count', [3, 4, 5])).toEqual({ value: 3, events: 3 });
    expect(run('max', [3, 9, 5])).toEqual({ value: 9, events: 3 });
    expect(run('unique_count', [1, 1, 1], [true, false, true])).toEqual({ value: 2, events: 3 });
  });

  it('says used, remaining and overage against a cap', () => {
    expect(meterStanding({ cap: 100, capType: 'soft' }, 130)).toEqual({ used: 130, cap: 100, remaining: 0, overage: 30 });
    expect(meterStanding({ cap: 100, capType: 'hard' }, 40)).toEqual({ used: 40, cap: 100, remaining: 60, overage: 0 });
  });
});
