import { until } from '@el/testing';
import { startEmbeddedApp, type EmbeddedApp } from './testing/embedded-app';

/**
 * Usage counted once per (source, id) and enforced by checks in the same
 * process: a cap reached by reported usage denies the next check at once.
 */
describe('metering: usage ingestion, counters and caps enforced against real usage', () => {
  let t: EmbeddedApp;
  let entitlementId: string;
  // A redelivery carries the same payload, time included.
  let sent: string;
  const event = (id: string, quantity: number, over: Record<string, unknown> = {}) => ({
    specversion: '1.0',
    id,
    source: 'urn:app:designer',
    type: 'io.ledger.usage.v1',
    subject: 'acme',
    time: sent,
    data: { feature: 'render_minutes', quantity },
    ...over,
  });
  const report = async (events: unknown[], headers?: Record<string, string>) => t.http('POST', '/v1/usage', { events }, headers);
  const used = async () => (await t.http('GET', '/v1/customers/acme/usage')).body.meters.find((m: { feature: string }) => m.feature === 'render_minutes');

  beforeAll(async () => {
    t = await startEmbeddedApp();
    // Designer Pro: render_minutes, 600 a month, hard cap.
    const granted = await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku: 'DSG-PRO' });
    expect(granted.status).toBe(201);
    entitlementId = granted.body.entitlementId;
    await t.http('POST', '/v1/entitlements', { customerId: 'globex', sku: 'DSG-PRO' });
    await t.viewAtHead();
    sent = new Date().toISOString();
    await until('metering to learn the meters', async () => (await t.http('GET', '/v1/customers/acme/usage')).status === 200, { timeoutMs: 10_000, intervalMs: 20 });
  });
  afterAll(() => t.close());

  it('counts accepted usage once, and a check sees it at once: the cap denies with the true remaining', async () => {
    const first = await report([event('u-1', 100), event('u-2', 200), event('u-3', 250)]);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ accepted: 3, duplicates: 0, rejected: 0 });
    expect(first.body.results.map((r: { status: string; entitlementId: string }) => [r.status, r.entitlementId])).toEqual([
      ['accepted', entitlementId],
      ['accepted', entitlementId],
      ['accepted', entitlementId],
    ]);
    expect(await used()).toMatchObject({ entitlementId, period: 'month', cap: 600, used: 550, remaining: 50, overage: 0, capType: 'hard' });
    const check = await t.http('POST', '/v1/check', { customerId: 'acme', feature: 'render_minutes', quantity: 100 });
    expect(check.body).toMatchObject({ allowed: false, code: 'USAGE_CAP_REACHED', remaining: 50, upgradeHint: expect.objectContaining({ sku: 'DSG-ENT' }) });
    expect((await t.http('POST', '/v1/check', { customerId: 'acme', feature: 'render_minutes', quantity: 50 })).body).toMatchObject({ allowed: true, code: 'OK', remaining: 0 });
    // The operators' list of customers to offer an upgrade.
    const near = await t.http('GET', '/v1/usage/near-cap?threshold=0.9');
    expect(near.body.items).toEqual([expect.objectContaining({ customerId: 'acme', entitlementId, feature: 'render_minutes', used: 550, share: 0.917 })]);
    expect((await t.http('GET', '/v1/usage/near-cap?threshold=0.95')).body.items).toEqual([]);
    expect((await t.http('GET', '/v1/usage/near-cap?threshold=-1')).body.errors[0]).toMatchObject({ path: 'threshold' });
    // 550 of 600 crossed 80 %: one alert.
    expect((await t.http('GET', '/v1/customers/acme/alerts')).body.items).toEqual([expect.objectContaining({ entitlementId, feature: 'render_minutes', threshold: 80, cap: 600, used: 550, upgradeHint: { kind: 'plan', sku: 'DSG-ENT', name: 'Designer Enterprise', productId: 'designer' } })]);
  });

  it('a redelivered batch changes nothing; the same id with another payload is refused', async () => {
    const before = await used();
    const again = await report([event('u-1', 100), event('u-2', 200), event('u-3', 250)]);
    expect(again.body).toMatchObject({ accepted: 0, duplicates: 3, rejected: 0 });
    const changed = await report([event('u-1', 999)]);
    expect(changed.body.results[0]).toMatchObject({ status: 'rejected', code: 'USAGE.ID_REUSED' });
    // Within one batch too: the first occurrence counts, an identical repeat is a duplicate.
    const twice = await report([event('u-4', 1), event('u-4', 1), event('u-4', 2)]);
    expect(twice.body.results.map((r: { status: string; code?: string }) => r.code ?? r.status)).toEqual(['accepted', 'duplicate', 'USAGE.ID_REUSED']);
    expect((await used()).used).toBe(before.used + 1);
  });

  it('the same instant written another way is the same event; a leap second is refused, not a failed batch', async () => {
    // The next whole second after the entitlement began (a second form without milliseconds names it exactly).
    const at = new Date(Math.ceil((Date.parse(sent) + 1) / 1000) * 1000);
    const utc = at.toISOString();
    // The same instant two hours east, without milliseconds.
    const east = new Date(at.getTime() + 2 * 3_600_000).toISOString().replace(/\.\d{3}Z$/, '+02:00');
    expect((await report([event('tz-1', 1, { time: utc })])).body.results[0].status).toBe('accepted');
    expect((await report([event('tz-1', 1, { time: east })])).body.results[0].status).toBe('duplicate');
    const leap = await report([event('leap-1', 1, { time: '2026-12-31T23:59:60Z' }), event('tz-2', 1, { time: utc })]);
    expect(leap.status).toBe(200);
    expect(leap.body.results.map((r: { code?: string; status: string }) => r.code ?? r.status)).toEqual(['VALIDATION_FAILED', 'accepted']);
    expect(leap.body.results[0].errors[0].path).toBe('events[0].time');
    // A refused 100 KB id is not echoed in full.
    const huge = await report([event('x'.repeat(100_000), 1)]);
    expect(huge.body.results[0].id.length).toBeLessThan(300);
    // What happened is counted.
    const metrics = await t.http('GET', '/metrics');
    expect(String(metrics.body)).toMatch(/metering_usage_events_total\{status="duplicate",code=""\} [1-9]/);
  });

  it('refuses, event by event with a reason, what cannot be counted', async () => {
    const before = await used();
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    const res = await report([
      event('r-1', 5, { subject: 'nobody' }),
      event('r-2', 5, { data: { feature: 'teleport', quantity: 5 } }),
      event('r-3', -5),
      event('r-4', 5, { time: new Date(Date.now() + 3_600_000).toISOString() }),
      event('r-5', 5, { time: '2020-01-01T00:00:00Z' }),
      event('r-6', 5, { data: { feature: 'render_minutes', quantity: 5, entitlementId: 'not-ours' } }),
      { id: 'r-7', source: 'urn:app:designer' },
      event('r-8', 5, { time: hourAgo }),
    ]);
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { code?: string; status: string }) => r.code ?? r.status)).toEqual([
      'USAGE.UNKNOWN_CUSTOMER',
      'USAGE.UNKNOWN_FEATURE',
      'VALIDATION_FAILED',
      'USAGE.TIME_IN_FUTURE',
      'USAGE.TOO_LATE',
      'USAGE.UNKNOWN_ENTITLEMENT',
      'VALIDATION_FAILED',
      'USAGE.BEFORE_ENTITLEMENT',
    ]);
    expect(res.body.results[2].errors[0]).toMatchObject({ path: 'events[2].data.quantity' });
    expect(res.body.results[6].errors.map((e: { path: string }) => e.path)).toContain('events[6].subject');
    expect((await used()).used).toBe(before.used);
    // A malformed batch as a whole is a 400 with paths.
    expect((await t.http('POST', '/v1/usage', { events: [] })).body.errors[0]).toMatchObject({ path: 'events' });
    expect((await t.http('POST', '/v1/usage', { events: Array.from({ length: 1001 }, () => ({})) })).status).toBe(400);
  });

  it('reporters and readers see only their customers', async () => {
    const globexApp = await t.keyFor('service', ['globex']);
    const res = await report([event('s-1', 1)], globexApp);
    expect(res.body.results[0]).toMatchObject({ status: 'rejected', code: 'USAGE.UNKNOWN_CUSTOMER' });
    const acmeUser = await t.keyFor('customer-user', ['acme']);
    expect((await t.http('GET', '/v1/customers/acme/usage', undefined, acmeUser)).status).toBe(200);
    expect((await t.http('GET', '/v1/customers/globex/usage', undefined, acmeUser)).body.code).toBe('CUSTOMER.NOT_FOUND');
    expect((await report([event('s-2', 1)], acmeUser)).body.code).toBe('AUTH.FORBIDDEN');
  });

  it('shows usage over time per hour or day and per user, and the previous period', async () => {
    const series = await t.http('GET', '/v1/customers/acme/usage/series?feature=render_minutes&windowSize=hour');
    expect(series.status).toBe(200);
    const total = series.body.points.reduce((n: number, p: { value: number }) => n + p.value, 0);
    expect(total).toBe((await used()).used);
    expect(series.body).toMatchObject({ entitlementId, aggregation: 'sum', windowSize: 'hour', groupBy: null, cap: 600, truncated: false });
    expect(series.body.points[0].windowStart).toBe(`${sent.slice(0, 13)}:00:00.000Z`);
    // Per user: events without a userId form the null group.
    await report([event('g-1', 1, { data: { feature: 'render_minutes', quantity: 1, userId: 'ann' } })]);
    const byUser = await t.http('GET', '/v1/customers/acme/usage/series?feature=render_minutes&windowSize=day&groupBy=userId');
    expect(byUser.body.points.map((p: { group: string | null; value: number }) => [p.group, p.value])).toEqual([[null, total], ['ann', 1]]);
    const bad = await t.http('GET', `/v1/customers/acme/usage/series?feature=render_minutes&windowSize=minute&from=${encodeURIComponent(sent)}&to=2020-01-01T00:00:00Z`);
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(['windowSize']);
    expect((await t.http('GET', `/v1/customers/acme/usage/series?feature=render_minutes&from=${encodeURIComponent(sent)}&to=2020-01-01T00:00:00Z`)).body.errors[0].path).toBe('to');
    expect((await t.http('GET', '/v1/customers/acme/usage/series?feature=teleport')).body.code).toBe('USAGE.UNKNOWN_FEATURE');
    // The previous period: before this entitlement began, nothing.
    const previous = (await t.http('GET', '/v1/customers/acme/usage?period=previous')).body.meters.find((m: { feature: string }) => m.feature === 'render_minutes');
    expect(previous).toMatchObject({ used: 0, periodEnd: (await used()).periodStart });
    expect((await t.http('GET', '/v1/customers/acme/usage?period=yesterday')).body.errors[0].path).toBe('period');
  });

  it('counts distinct users for a unique-count meter from the catalog', async () => {
    // Designer Pro's active_renderers: distinct userIds a month, soft cap 5.
    const renders = ['ann', 'bob', 'ann', 'cy'].map((u, i) => event(`ar-${i}`, 1, { data: { feature: 'active_renderers', quantity: 1, userId: u } }));
    expect((await report(renders)).body).toMatchObject({ accepted: 4 });
    const meter = (await t.http('GET', '/v1/customers/acme/usage')).body.meters.find((m: { feature: string }) => m.feature === 'active_renderers');
    expect(meter).toMatchObject({ aggregation: 'unique_count', of: 'userId', used: 3, cap: 5, remaining: 2 });
    expect((await report([event('ar-9', 1, { data: { feature: 'active_renderers', quantity: 1 } })])).body.results[0].code).toBe('USAGE.MISSING_FIELD');
    const series = await t.http('GET', '/v1/customers/acme/usage/series?feature=active_renderers');
    expect(series.body.points.map((p: { value: number }) => p.value)).toEqual([3]);
  });

  it('refuses a correction that would take usage below zero or count a fraction of a user', async () => {
    const correction = (over: Record<string, unknown>) => t.http('POST', '/v1/usage/corrections', { correctionId: `c-${Math.random()}`, customerId: 'acme', entitlementId, feature: 'render_minutes', time: sent, quantity: -1_000_000, reason: 'credit', ...over });
    const below = await correction({});
    expect([below.status, below.body.code]).toEqual([422, 'USAGE.CORRECTION_INVALID']);
    expect(below.body.message).toContain('below zero');
    const fraction = await correction({ feature: 'active_renderers', quantity: 0.5 });
    expect([fraction.status, fraction.body.code]).toEqual([422, 'USAGE.CORRECTION_INVALID']);
    const leap = await correction({ time: '2026-12-31T23:59:60Z', quantity: 1 });
    expect([leap.status, leap.body.errors?.[0]?.path]).toEqual([400, 'time']);
  });

  it('does not count usage after an entitlement was revoked', async () => {
    const granted = await t.http('POST', '/v1/entitlements', { customerId: 'initech', sku: 'DSG-PRO' });
    const id = granted.body.entitlementId;
    const before = new Date().toISOString();
    // The revocation takes effect strictly after `before` (a clock tick later), so usage at `before` was in force.
    await until('the clock to move past the usage time', () => Date.now() > Date.parse(before) + 1, { timeoutMs: 1_000, intervalMs: 1 });
    expect((await t.http('POST', `/v1/entitlements/${id}/revoke`, { reason: 'chargeback' })).status).toBe(200);
    await t.viewAtHead();
    await until('metering to learn the revocation', async () => {
      const r = await report([{ ...event(`rv-${Math.random()}`, 1), subject: 'initech', time: new Date().toISOString() }]);
      return r.body.results?.[0]?.code === 'USAGE.ENTITLEMENT_ENDED';
    }, { timeoutMs: 10_000, intervalMs: 20 });
    // Usage from while it was in force still counts (late delivery).
    const late = await report([{ ...event('rv-late', 1), subject: 'initech', time: before }]);
    expect(late.body.results[0]).toMatchObject({ status: 'accepted' });
  });

  it('keeps its counters across a restart', async () => {
    const before = await used();
    await t.close(true);
    t = await startEmbeddedApp({}, t.dataDir);
    await t.viewAtHead();
    await until('metering to learn the meters again', async () => (await t.http('GET', '/v1/customers/acme/usage')).status === 200, { timeoutMs: 10_000, intervalMs: 20 });
    expect(await used()).toEqual(before);
    expect((await t.http('POST', '/v1/check', { customerId: 'acme', feature: 'render_minutes', quantity: 100 })).body.code).toBe('USAGE_CAP_REACHED');
    expect((await report([event('u-1', 100)])).body).toMatchObject({ duplicates: 1 });
  });

  it('a plan change mid-period keeps the counter and applies the new cap', async () => {
    const before = await used();
    const up = await t.http('POST', `/v1/entitlements/${entitlementId}/change-plan`, { sku: 'DSG-ENT', direction: 'upgrade' });
    expect(up.status).toBe(200);
    await t.viewAtHead();
    await until('metering to learn the new cap', async () => (await used()).cap === 6000, { timeoutMs: 10_000, intervalMs: 20 });
    expect(await used()).toMatchObject({ periodStart: before.periodStart, used: before.used, cap: 6000, capType: 'soft', remaining: 6000 - before.used });
    expect((await t.http('POST', '/v1/check', { customerId: 'acme', feature: 'render_minutes', quantity: 100 })).body).toMatchObject({ allowed: true, code: 'OK', remaining: 6000 - before.used - 100 });
  });
});
