import { deciderSpec } from '@el/testing';
import { envelope, type Actor, type CommandMetadata } from '../shared/envelope';
import { usagePeriodDecider, usagePeriodStream, type CloseUsagePeriod, type CorrectUsage, type UsageCorrected, type UsagePeriodClosed, type UsagePeriodEvent } from './usage-period';

const spec = deciderSpec(usagePeriodDecider);
const key = { customerId: 'acme', entitlementId: 'e-1', feature: 'api_calls', period: 'month', periodStart: '2026-11-01T00:00:00.000Z', periodEnd: '2026-12-01T00:00:00.000Z' } as const;
const meta = (now: string, actor: Actor = { type: 'operator', id: 'key:ops' }): CommandMetadata => ({ now, correlationId: 'c', causationId: 'c', actor, source: actor.type === 'operator' ? 'api' : 'system' });
const DURING = '2026-11-20T10:00:00.000Z';
const CLOSABLE = '2026-12-04T00:05:00.000Z';
const AFTER = '2026-12-04T01:00:00.000Z';

const correct = (over: Partial<CorrectUsage['data']> = {}, now = DURING): CorrectUsage => ({
  type: 'CorrectUsage',
  data: { ...key, correctionId: 'corr-1', quantity: -40, reason: 'double-counted retry', corrects: [{ source: 'urn:app:a', id: 'u-7' }], fingerprint: 'f1', ...over },
  metadata: meta(now),
});
const close = (now = AFTER, over: Partial<CloseUsagePeriod['data']> = {}): CloseUsagePeriod => ({
  type: 'CloseUsagePeriod',
  data: { ...key, included: 1000, capType: 'hard', usage: 1100, events: 12, firstPosition: 3, lastPosition: 90, throughPosition: 95, closableAt: CLOSABLE, ...over },
  metadata: meta(now, { type: 'system', id: 'usage-period-closer' }),
});
const corrected = (c: CorrectUsage = correct()): UsageCorrected => ({ type: 'UsageCorrected', data: { ...c.data, correctedAt: c.metadata.now }, metadata: envelope(c.metadata) });
const closedEvent = (): UsagePeriodEvent => usagePeriodDecider.decide(close(), usagePeriodDecider.initialState())[0]!;

describe('usage period decider', () => {
  it('names one stream per entitlement, meter and period', () => {
    expect(usagePeriodStream('e-1', 'api_calls', key.periodStart)).toBe('usage-e-1/api_calls/2026-11-01T00:00:00.000Z');
  });

  it('given an open period, when a correction comes, then it is recorded with who, why and when', () => {
    spec.given([]).when(correct()).then([corrected()]);
  });

  it('given a correction, when the same correction comes again, then nothing more is recorded', () => {
    spec.given([corrected()]).when(correct()).thenNothing();
  });

  it('given a correction, when its id comes with another content, then it is refused', () => {
    spec.given([corrected()]).when(correct({ quantity: 5, fingerprint: 'f2' })).thenRejects('USAGE.CORRECTION_ID_REUSED', { correctionId: 'corr-1' });
  });

  it('refuses a correction by nothing', () => {
    spec.given([]).when(correct({ quantity: 0 })).thenRejects('USAGE.CORRECTION_INVALID');
  });

  it('given corrections, when the period closes after its lateness window, then the close totals usage and the corrections', () => {
    const second = correct({ correctionId: 'corr-2', quantity: 15, fingerprint: 'f3', corrects: [] });
    spec
      .given([corrected(), corrected(second)])
      .when(close())
      .then([
        {
          type: 'UsagePeriodClosed',
          data: { ...key, included: 1000, capType: 'hard', usage: 1100, events: 12, firstPosition: 3, lastPosition: 90, throughPosition: 95, corrections: { count: 2, total: -25 }, billable: 1075, overage: 75, closedAt: AFTER },
          metadata: envelope(close().metadata),
        } satisfies UsagePeriodClosed,
      ]);
  });

  it('given an open period, when a closer comes before the end of its lateness window, then it is refused', () => {
    spec.given([]).when(close('2026-12-03T23:59:59.000Z')).thenRejects('USAGE.PERIOD_NOT_OVER', { closableAt: CLOSABLE });
  });

  it('given a closed period, when another closer comes, then nothing more is recorded (closed once)', () => {
    spec.given([closedEvent()]).when(close('2026-12-05T00:00:00.000Z', { usage: 1 })).thenNothing();
  });

  it('given a closed period, when a new correction comes, then it is refused: a closed period never changes', () => {
    spec.given([closedEvent()]).when(correct({}, AFTER)).thenRejects('USAGE.PERIOD_CLOSED', { periodStart: key.periodStart, closedAt: AFTER });
  });

  it('given a correction then the close, when the correction is retried, then it answers as recorded', () => {
    spec.given([corrected(), closedEvent()]).when(correct({}, AFTER)).thenNothing();
  });

  it('overage is never negative', () => {
    spec
      .given([])
      .when(close(AFTER, { usage: 10 }))
      .then((events) => expect(events[0]).toMatchObject({ data: { billable: 10, overage: 0, corrections: { count: 0, total: 0 } } }));
  });
});
