import { MeterRegistry } from '../meters/meter-registry';
import { UsageCounters, type CommittedCounter } from './usage-counters';

describe('UsageCounters.onCommitted', () => {
  it('hands the counters one ingest set over together, after the ingest code has run, and each later ingest on its own', async () => {
    const counters = new UsageCounters(new MeterRegistry());
    const seen: (readonly CommittedCounter[])[] = [];
    counters.onCommitted((moved) => seen.push(moved));
    // given one ingest's commit setting two counters
    counters.set('e-1', 'api_calls', '2026-11-30T09:30:00.000Z', 10, 3);
    counters.set('e-2', 'api_calls', '2026-11-30T09:30:00.000Z', 5, 4);
    // then nothing is handed over inside the ingest itself
    expect(seen).toEqual([]);
    await Promise.resolve();
    expect(seen.map((m) => m.map((c) => [c.entitlementId, c.value, c.position]))).toEqual([
      [
        ['e-1', 10, 3],
        ['e-2', 5, 4],
      ],
    ]);
    counters.set('e-1', 'api_calls', '2026-11-30T09:30:00.000Z', 11, 5);
    await Promise.resolve();
    expect(seen).toHaveLength(2);
    expect(counters.position).toBe(5);
    expect(await counters.waitFor('anyone', 5)).toBe(true);
    expect(await counters.waitFor('anyone', 6)).toBe(false);
  });
});
