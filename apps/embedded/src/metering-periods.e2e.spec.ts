import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { UsagePeriodCloser } from '@el/metering-service';
import { Clock } from '@el/platform';
import { until } from '@el/testing';
import { startEmbeddedApp, type EmbeddedApp } from './testing/embedded-app';

const ROOT = join(__dirname, '..', '..', '..');
const METERING_CLI = join(ROOT, 'dist', 'apps', 'embedded', 'src', 'metering-cli.js');

/** The process's clock, moved by the test: a month passes without sleeping. */
class TestClock extends Clock {
  constructor(private at: number) {
    super();
  }
  now(): Date {
    return new Date(this.at);
  }
  set(ms: number): void {
    this.at = ms;
  }
}

/**
 * Billing through the embedded process's HTTP API: corrections beside the raw
 * usage, the export, the period closed once after its lateness window, and a
 * closed period's export unchanged by a counter rebuild (the CLI) and a restart.
 */
describe('metering: corrections, period close and the billing export', () => {
  const clock = new TestClock(Date.now());
  let t: EmbeddedApp;
  let entitlementId: string;
  let periodStart: string;
  let periodEnd: string;
  let sent: string;
  const event = (id: string, quantity: number, subject = 'acme') => ({ id, source: 'urn:app:designer', type: 'io.ledger.usage.v1', subject, time: sent, data: { feature: 'render_minutes', quantity } });
  const correction = (over: Record<string, unknown> = {}) => ({
    correctionId: 'corr-1',
    customerId: 'acme',
    entitlementId,
    feature: 'render_minutes',
    time: sent,
    quantity: -50,
    reason: 'render farm retried a job, counted twice',
    corrects: [{ source: 'urn:app:designer', id: 'u-2' }],
    ...over,
  });
  const used = async () => (await t.http('GET', '/v1/customers/acme/usage')).body.meters.find((m: { feature: string }) => m.feature === 'render_minutes');
  // The body as sent (the helper's http() would parse a one-line JSON export).
  const exportOf = async (query: string, headers: Record<string, string> = t.admin) => {
    const res = await t.app.inject({ method: 'GET', url: `/v1/usage/export?${query}`, headers });
    return { status: res.statusCode, headers: res.headers, body: res.body, json: () => JSON.parse(res.body) };
  };
  const stored = async (type: string) => (await t.store.readAll()).filter((r) => r.type === type);

  beforeAll(async () => {
    t = await startEmbeddedApp({}, undefined, { clock });
    const granted = await t.http('POST', '/v1/entitlements', { customerId: 'acme', sku: 'DSG-PRO' });
    entitlementId = granted.body.entitlementId;
    await t.http('POST', '/v1/entitlements', { customerId: 'globex', sku: 'DSG-PRO' });
    await t.viewAtHead();
    await until('metering to learn the meters', async () => (await t.http('GET', '/v1/customers/globex/usage')).status === 200, { timeoutMs: 10_000, intervalMs: 20 });
    sent = clock.now().toISOString();
    ({ periodStart, periodEnd } = await used());
    expect((await t.http('POST', '/v1/usage', { events: [event('u-1', 100), event('u-2', 200), event('g-1', 7, 'globex')] })).body).toMatchObject({ accepted: 3 });
  });
  afterAll(() => t.close());

  it('records a correction once, beside the original events, and refuses what cannot be corrected', async () => {
    const first = await t.http('POST', '/v1/usage/corrections', correction());
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ correctionId: 'corr-1', entitlementId, periodStart, periodEnd, quantity: -50, replayed: false });
    const retry = await t.http('POST', '/v1/usage/corrections', correction());
    expect(retry.body).toMatchObject({ correctionId: 'corr-1', position: first.body.position, replayed: true });
    expect(await used()).toMatchObject({ used: 250, remaining: 350 });
    // Checks in this process see the corrected usage at once.
    expect((await t.http('POST', '/v1/check', { customerId: 'acme', feature: 'render_minutes', quantity: 350 })).body).toMatchObject({ allowed: true, remaining: 0 });

    const refused = async (body: unknown) => {
      const r = await t.http('POST', '/v1/usage/corrections', body);
      return [r.status, r.body.code === 'VALIDATION_FAILED' ? r.body.errors[0].path : r.body.code];
    };
    expect(await refused(correction({ quantity: -51 }))).toEqual([422, 'USAGE.CORRECTION_ID_REUSED']);
    expect(await refused(correction({ correctionId: 'c-2', entitlementId: 'nope' }))).toEqual([404, 'USAGE.UNKNOWN_ENTITLEMENT']);
    expect(await refused(correction({ correctionId: 'c-2', customerId: 'nobody' }))).toEqual([404, 'USAGE.UNKNOWN_CUSTOMER']);
    expect(await refused(correction({ correctionId: 'c-2', feature: 'teleport' }))).toEqual([422, 'USAGE.UNKNOWN_FEATURE']);
    expect(await refused(correction({ correctionId: 'c-2', quantity: 0 }))).toEqual([400, 'quantity']);
    expect(await refused(correction({ correctionId: 'c-2', reason: 'x'.repeat(501) }))).toEqual([400, 'reason']);
    expect(await refused(correction({ correctionId: 'c-2', corrects: Array.from({ length: 101 }, (_, i) => ({ source: 's', id: `${i}` })) }))).toEqual([400, 'corrects']);

    const recorded = await stored('UsageCorrected');
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ stream: `usage-${entitlementId}/render_minutes/${periodStart}`, data: { reason: 'render farm retried a job, counted twice', quantity: -50 }, metadata: { actor: { type: 'operator' } } });
  });

  it('exports usage and corrections per customer, entitlement and meter (CSV and JSON lines), scoped to what the credential sees', async () => {
    const csv = await exportOf(`period=${encodeURIComponent(periodStart)}`);
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    // Designer Pro also meters active_renderers (no usage here): the rows of render_minutes.
    const [header, ...body] = (csv.body as string).split('\r\n');
    const [acme, globex] = body.filter((l) => l.includes(',render_minutes,'));
    const end = body.at(-1);
    expect(header!.split(',').slice(0, 6)).toEqual(['customerId', 'entitlementId', 'feature', 'period', 'periodStart', 'periodEnd']);
    expect(acme).toMatch(new RegExp(`^acme,${entitlementId},render_minutes,month,${periodStart},${periodEnd},600,hard,300,-50,1,250,0,2,`));
    expect(acme).toContain(',false,,');
    expect(globex).toMatch(/^globex,.*,7,0,0,7,0,1,/);
    expect(end).toBe('');

    const jsonl = await exportOf(`period=${encodeURIComponent(periodStart)}&format=jsonl&customerId=acme`);
    expect(jsonl.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    const rows = String(jsonl.body).trim().split('\n').map((l) => JSON.parse(l)).filter((r: { feature: string }) => r.feature === 'render_minutes');
    expect(rows).toEqual([expect.objectContaining({ customerId: 'acme', included: 600, usage: 300, corrections: -50, billable: 250, overage: 0, events: 2, closed: false })]);

    const lines = await exportOf(`period=${encodeURIComponent(periodStart)}&format=jsonl&customerId=acme&lines=events`);
    expect(String(lines.body).trim().split('\n').map((l) => JSON.parse(l)).map((l: { kind: string; id: string | null; correctionId: string | null; quantity: number }) => [l.kind, l.id ?? l.correctionId, l.quantity])).toEqual([
      ['usage', 'u-1', 100],
      ['usage', 'u-2', 200],
      ['correction', 'corr-1', -50],
    ]);

    // A customer's admin sees its own rows only; another customer is not found.
    const globexAdmin = await t.keyFor('customer-admin', ['globex']);
    const own = await exportOf(`period=${encodeURIComponent(periodStart)}`, globexAdmin);
    expect(String(own.body).split('\r\n').filter((l) => l.startsWith('acme'))).toEqual([]);
    expect(String(own.body)).toContain('\r\nglobex,');
    expect((await exportOf(`period=${encodeURIComponent(periodStart)}&customerId=acme`, globexAdmin)).json().code).toBe('CUSTOMER.NOT_FOUND');
    expect((await exportOf('period=2026-13')).json()).toMatchObject({ statusCode: 400, errors: [{ path: 'period' }] });
    expect((await exportOf('period=2026-11&format=xlsx')).json().errors[0]).toMatchObject({ path: 'format' });
  });

  it('closes the period once after its lateness window; then corrections are refused and the export says closed', async () => {
    const closer = t.app.get(UsagePeriodCloser);
    // The period's end plus 72 h lateness plus the 300 s settling margin.
    const closable = Date.parse(periodEnd) + 72 * 3_600_000 + 300_000;
    clock.set(closable - 1000);
    expect(await closer.sweep()).toBe(0);
    clock.set(closable);
    // render_minutes and active_renderers of acme's entitlement and of globex's.
    expect(await closer.sweep()).toBe(4);
    expect(await closer.sweep()).toBe(0);
    const closes = await stored('UsagePeriodClosed');
    // Each period once.
    expect(closes).toHaveLength(4);
    expect(closes.map((r) => r.stream)).toContain(`usage-${entitlementId}/render_minutes/${periodStart}`);
    expect(closes.find((r) => r.stream.includes(entitlementId))!).toMatchObject({
      data: { customerId: 'acme', included: 600, usage: 300, corrections: { count: 1, total: -50 }, billable: 250, overage: 0, events: 2, closedAt: new Date(closable).toISOString() },
      metadata: { actor: { type: 'system', id: 'usage-period-closer' } },
    });

    const late = await t.http('POST', '/v1/usage/corrections', correction({ correctionId: 'corr-late', quantity: 10 }));
    expect([late.status, late.body.code]).toEqual([409, 'USAGE.PERIOD_CLOSED']);
    const csv = String((await exportOf(`period=${encodeURIComponent(periodStart)}&customerId=acme`)).body);
    expect(csv.split('\r\n').find((l) => l.includes(',render_minutes,'))).toContain(`,true,${new Date(closable).toISOString()},`);
  });

  it("a closed period's export is byte-identical after `npm run metering -- rebuild` and a restart; usage in it is refused", async () => {
    const query = `period=${encodeURIComponent(periodStart)}`;
    const before = { csv: String((await exportOf(query)).body), jsonl: String((await exportOf(`${query}&format=jsonl`)).body), lines: String((await exportOf(`${query}&lines=events`)).body) };
    await t.close(true);
    const rebuild = spawnSync(process.execPath, [METERING_CLI, 'rebuild'], { cwd: ROOT, env: { ...process.env, DATA_DIR: t.dataDir }, encoding: 'utf8' });
    expect({ status: rebuild.status, stderr: rebuild.stderr }).toMatchObject({ status: 0 });
    expect(rebuild.stdout).toMatch(/rebuilt 2 counters from 3 usage events and 1 corrections/);
    // Restarted with a wider lateness window (raised by an operator after the close): the closed period still refuses usage.
    t = await startEmbeddedApp({ USAGE_LATENESS_HOURS: '2000' }, t.dataDir, { clock });
    await t.viewAtHead();
    await until('metering to learn the meters again', async () => (await t.http('GET', '/v1/customers/acme/usage')).status === 200, { timeoutMs: 10_000, intervalMs: 20 });
    expect(String((await exportOf(query)).body)).toBe(before.csv);
    expect(String((await exportOf(`${query}&format=jsonl`)).body)).toBe(before.jsonl);
    expect(String((await exportOf(`${query}&lines=events`)).body)).toBe(before.lines);
    const refused = await t.http('POST', '/v1/usage', { events: [event('u-late', 5)] });
    expect(refused.body.results[0]).toMatchObject({ status: 'rejected', code: 'USAGE.PERIOD_CLOSED' });
  });
});
