import { usageCountersV1, type UsageCounterV1 } from '@el/contracts';
import { UsageCountersView } from './usage-counters-view';

const T = '2026-12-02T00:00:00.000Z';
const entitlements = new Map([['e-1', { customerId: 'acme', validFrom: '2026-10-14T09:30:00.000Z' }]]);
const counter = (value: number, periodStart = '2026-11-14T09:30:00.000Z'): UsageCounterV1 => ({ entitlementId: 'e-1', feature: 'render_minutes', periodStart, value });
const at = Date.parse('2026-12-01T12:00:00.000Z');

describe('UsageCountersView', () => {
  it('keeps the state with the highest position: an older message arriving after a newer one changes nothing', () => {
    // given the state at position 12, then one at 7 (another metering process, published later)
    const view = new UsageCountersView();
    const lookup = view.lookup((id) => entitlements.get(id));
    expect(view.apply(usageCountersV1('acme', 12, [counter(500)], T))).toBe(true);
    expect(view.apply(usageCountersV1('acme', 7, [counter(300)], T))).toBe(false);
    // then the newer state holds
    expect(view.position('acme')).toBe(12);
    expect(lookup('e-1', 'render_minutes', 'month', at)).toBe(500);
    // a redelivery of the same state is ignored too; a newer one replaces it whole
    expect(view.apply(usageCountersV1('acme', 12, [counter(1)], T))).toBe(false);
    expect(view.apply(usageCountersV1('acme', 13, [counter(510)], T))).toBe(true);
    expect(lookup('e-1', 'render_minutes', 'month', at)).toBe(510);
  });

  it('answers a counter only for the period that contains the instant, anchored at the entitlement start', () => {
    const view = new UsageCountersView();
    const lookup = view.lookup((id) => entitlements.get(id));
    view.apply(usageCountersV1('acme', 3, [counter(42)], T));
    // the period 2026-11-14T09:30 .. 2026-12-14T09:30
    expect(lookup('e-1', 'render_minutes', 'month', Date.parse('2026-11-14T09:30:00.000Z'))).toBe(42);
    expect(lookup('e-1', 'render_minutes', 'month', Date.parse('2026-12-14T09:29:59.999Z'))).toBe(42);
    // the next period has no usage yet; the previous one is not held
    expect(lookup('e-1', 'render_minutes', 'month', Date.parse('2026-12-14T09:30:00.000Z'))).toBe(0);
    expect(lookup('e-1', 'render_minutes', 'month', Date.parse('2026-11-14T09:29:59.999Z'))).toBe(0);
    // unknown entitlement, feature or customer, or no period: nothing used
    expect(lookup('e-2', 'render_minutes', 'month', at)).toBe(0);
    expect(lookup('e-1', 'api_calls', 'month', at)).toBe(0);
    expect(lookup('e-1', 'render_minutes', null, at)).toBe(0);
  });

  it('wakes a wait for a customer position when a state reaching it arrives, not for another customer', async () => {
    const view = new UsageCountersView();
    const acme = view.waitFor('acme', 10, 60_000);
    const globex = view.waitFor('globex', 1, 0);
    view.apply(usageCountersV1('other', 99, [], T));
    view.apply(usageCountersV1('acme', 9, [counter(1)], T));
    view.apply(usageCountersV1('acme', 11, [counter(2)], T));
    expect(await acme).toBe(true);
    expect(await globex).toBe(false);
    const pending = view.waitFor('acme', 50, 60_000);
    view.cancelWaits();
    expect(await pending).toBe(false);
  });
});
