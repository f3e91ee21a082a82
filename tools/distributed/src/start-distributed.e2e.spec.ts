import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { verifyExport } from '@el/audit-service';
import { describeWithKafka, freePort, kafkaForTests, postgresBackend, repoRoot, until } from '@el/testing';

const ROOT = repoRoot(__dirname);
const LAUNCHER = join(ROOT, 'dist', 'tools', 'distributed', 'src', 'start-distributed.js');

/** The admin key the ledger's first start wrote to DATA_DIR/admin-api-key. */
let auth: Record<string, string> = {};

async function json(url: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { ...init, headers: { ...auth, ...(init.headers as Record<string, string> | undefined) } });
  return { status: res.status, body: await res.json() };
}

// npm run start:distributed as a new user runs it: the launcher starts PostgreSQL itself from the
// machine's binaries; Kafka is the run's broker (KAFKA_BROKERS), which the launcher then uses.
describeWithKafka('npm run start:distributed (smoke)', () => {
  let launcher: ChildProcess | null = null;
  let output = '';
  const dataDir = mkdtempSync(join(tmpdir(), 'el-distributed-'));
  let pgDir: string | null = null;

  afterAll(async () => {
    if (launcher && launcher.exitCode === null) {
      launcher.kill('SIGKILL');
    }
    rmSync(dataDir, { recursive: true, force: true });
    if (pgDir) rmSync(pgDir, { recursive: true, force: true });
  });

  it('drives an ERP order from erp.orders.v1 to a read-model row and an allowed check, each service its own process', async () => {
    if (postgresBackend.unavailable) throw new Error(`PostgreSQL is needed: ${postgresBackend.unavailable}`);
    const [ledger, projector, enforcement, metering, audit, gateway] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    launcher = spawn(process.execPath, [LAUNCHER], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATA_DIR: dataDir,
        KAFKA_BROKERS: kafkaForTests.brokers.join(','),
        LEDGER_PORT: String(ledger),
        PROJECTOR_PORT: String(projector),
        ENFORCEMENT_PORT: String(enforcement),
        METERING_PORT: String(metering),
        AUDIT_PORT: String(audit),
        GATEWAY_PORT: String(gateway),
        // The bound of a minPosition / minUsagePosition wait (answered as soon as reached): room for a loaded CI machine.
        CHECK_MAX_WAIT_MS: '10000',
        LOG_LEVEL: 'warn',
        // Its own audit feed: other tests' relays publish to the shared broker too, and the audit log is one sequence.
        AUDIT_TOPIC: `ledger.audit.v1.${randomUUID()}`,
        READ_DB_URL: '',
        PG_URL: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    launcher.stdout!.on('data', (d) => (output += d));
    launcher.stderr!.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((r) => launcher!.once('exit', (code) => r(code)));

    const state = await until('the launcher to report every service up (or exit)', () => (launcher!.exitCode !== null ? 'exited' : output.includes('Entitlement Ledger (distributed) is up') ? 'up' : null), { timeoutMs: 180_000, intervalMs: 200 });
    expect({ state, output: state === 'up' ? null : output }).toEqual({ state: 'up', output: null });
    pgDir = /starting PostgreSQL \(data in ([^)]+)\)/.exec(output)?.[1] ?? null;
    expect(pgDir).not.toBeNull();

    // Five services, five processes, each healthy on its own port.
    const health = await Promise.all([ledger, projector, enforcement, metering, audit].map((p) => json(`http://127.0.0.1:${p}/health`)));
    expect(health.map((h) => h.status)).toEqual([200, 200, 200, 200, 200]);
    expect(health[4]!.body.components.audit).toMatchObject({ db: 'postgres', feed: 'kafka' });
    // Up once it has read what the relay published so far (the whole component shown when it is not).
    await until('the audit service to be up', async () => {
      const component = (await json(`http://127.0.0.1:${audit}/health`)).body.components.audit;
      return component.status === 'up' ? component : null;
    }, { timeoutMs: 30_000, intervalMs: 200 }).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify((await json(`http://127.0.0.1:${audit}/health`)).body.components.audit)}`);
    });
    expect(health[0]!.body.components.readModels.db).toMatch(/^postgres/);
    expect(health[2]!.body.components.enforcementView.status).toBe('up');
    expect(health[2]!.body.components.usageCounters.status).toBe('up');
    expect(health[3]!.body.components.metering).toMatchObject({ status: 'up', db: 'postgres' });
    // Each service runs from its bundle (dist/apps/<service>/main.js): its API docs, with the page's assets
    // (served from swagger-ui-dist's own folder), are there as in the unbundled code.
    for (const p of [ledger, projector, enforcement, metering, audit]) {
      const page = await fetch(`http://127.0.0.1:${p}/docs`);
      expect({ port: p, status: page.status }).toEqual({ port: p, status: 200 });
      const css = await fetch(`http://127.0.0.1:${p}/docs/swagger-ui.css`);
      expect({ port: p, status: css.status, type: css.headers.get('content-type') }).toEqual({ port: p, status: 200, type: expect.stringContaining('text/css') });
      expect((await json(`http://127.0.0.1:${p}/docs/openapi.json`)).body.openapi).toMatch(/^3\./);
    }

    // The ledger's first start wrote an admin key; the enforcement service, which has no event store,
    // learns it from ledger.api-keys.v1 (published by the relay in the projector).
    expect(statSync(join(dataDir, 'admin-api-key')).mode & 0o777).toBe(0o600);
    auth = { authorization: `Bearer ${readFileSync(join(dataDir, 'admin-api-key'), 'utf8').trim()}` };
    expect(output).toContain(join(dataDir, 'admin-api-key'));
    await until('the enforcement service to accept the admin key', async () => (await json(`http://127.0.0.1:${enforcement}/v1/view/customers/smoke-co/entitlements`)).status === 200, { timeoutMs: 30_000, intervalMs: 100 });
    expect((await fetch(`http://127.0.0.1:${enforcement}/v1/check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);

    // The ERP publishes an order.
    const producer = new Kafka({ brokers: kafkaForTests.brokers, logLevel: logLevel.NOTHING }).producer({ idempotent: true });
    await producer.connect();
    const order = { orderId: 'SO-SMOKE-1', customerId: 'smoke-co', lines: [{ lineId: '1', sku: 'ANL-PRO', quantity: 2, action: 'new' }] };
    await producer.send({ topic: 'erp.orders.v1', messages: [{ key: order.orderId, value: JSON.stringify(order) }] });
    await producer.disconnect();

    // The ledger consumed and fulfilled it...
    const fulfilled = await until(
      'the order to be fulfilled',
      async () => {
        const r = await json(`http://127.0.0.1:${ledger}/v1/orders/SO-SMOKE-1`);
        return r.status === 200 && r.body.status === 'fulfilled' ? r.body : null;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const entitlementId = fulfilled.results[0].entitlementId as string;
    const position = fulfilled.position as number;
    expect(position).toBeGreaterThan(0);

    // ...the projector's PostgreSQL read model has the row (read-your-writes through minPosition)...
    const rows = await json(`http://127.0.0.1:${ledger}/v1/customers/smoke-co/entitlements?minPosition=${position}`);
    expect(rows.status).toBe(200);
    expect(rows.body.items).toEqual([expect.objectContaining({ entitlementId, planId: 'pro', seats: 2, status: 'active' })]);
    // The console's customer search (PostgreSQL, "C" collation index) and who-am-I, on the ledger and on the audit service.
    const customers = await json(`http://127.0.0.1:${ledger}/v1/customers?search=smoke&minPosition=${position}`);
    expect(customers.body.items).toEqual([expect.objectContaining({ customerId: 'smoke-co', entitlements: 1, active: 1, suspended: 0 })]);
    for (const port of [ledger, audit]) expect((await json(`http://127.0.0.1:${port}/v1/me`)).body).toMatchObject({ kind: 'api-key', role: 'admin', customers: null });

    // ...and the enforcement service, fed through ledger.entitlements.v1 on Kafka, enforces it.
    const check = await json(`http://127.0.0.1:${enforcement}/v1/check`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customerId: 'smoke-co', feature: 'reports.export', minPosition: position }),
    });
    expect(check.status).toBe(200);
    expect(check.body).toMatchObject({ allowed: true, code: 'OK', entitlementId, stale: false });
    expect(check.body.position).toBeGreaterThanOrEqual(position);
    const denied = await json(`http://127.0.0.1:${enforcement}/v1/check`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customerId: 'smoke-co', feature: 'sso' }),
    });
    expect(denied.body).toMatchObject({ allowed: false, code: 'FEATURE_NOT_INCLUDED', upgradeHint: expect.objectContaining({ sku: 'ANL-ENT' }) });

    // Usage reported to the metering service reaches the enforcement service through metering.counters.v1,
    // and a check passing the ingest's position reads it (read-your-usage): over the soft cap, OVERAGE.
    const usage = { id: 'smoke-usage-1', source: 'urn:app:smoke', type: 'io.ledger.usage.v1', subject: 'smoke-co', time: new Date().toISOString(), data: { feature: 'api_calls', quantity: 100_001 } };
    const ingest = await until(
      'the metering service to count usage for smoke-co (it learns the entitlement and the key from Kafka)',
      async () => {
        const r = await json(`http://127.0.0.1:${metering}/v1/usage`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events: [usage] }) });
        return r.status === 200 && r.body.results[0].status !== 'rejected' ? r.body : null;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(ingest.position).toBeGreaterThan(0);
    const metered = await json(`http://127.0.0.1:${enforcement}/v1/check`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customerId: 'smoke-co', feature: 'api_calls', minUsagePosition: ingest.position }),
    });
    expect(metered.body).toMatchObject({ allowed: true, code: 'OVERAGE', entitlementId, stale: false });

    // The audit service, fed by ledger.audit.v1 on Kafka, logged the order and the grant, and its export verifies
    // with the key it publishes.
    const history = await until(
      'the audit service to log the order and its grant',
      async () => {
        const r = await json(`http://127.0.0.1:${audit}/v1/audit/history?customerId=smoke-co`);
        const types = r.status === 200 ? (r.body.items as { type: string }[]).map((i) => i.type) : [];
        return types.includes('OrderReceived') && types.includes('EntitlementGranted') ? r.body : null;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(history.items.every((i: { correlationId: unknown }) => typeof i.correlationId === 'string')).toBe(true);
    const jwks = (await json(`http://127.0.0.1:${audit}/.well-known/jwks.json`)).body;
    expect(jwks.keys).toEqual([expect.objectContaining({ use: 'audit', kid: expect.stringMatching(/^audit-/) })]);
    const exported = await fetch(`http://127.0.0.1:${audit}/v1/audit/export?customerId=smoke-co`, { headers: auth });
    async function* lines() {
      for (const line of (await exported.text()).split('\n')) yield line;
    }
    expect(await verifyExport(lines(), { jwks })).toMatchObject({ ok: true, complete: false, events: history.items.length });
    // The audit service compares the event store with its own store on request, in the background.
    const started = await json(`http://127.0.0.1:${audit}/v1/audit/verifications`, { method: 'POST' });
    expect(started).toMatchObject({ status: 202, body: { state: 'running', requestedBy: expect.stringMatching(/^key:/) } });
    const verified = await until(
      'the store verification to finish',
      async () => {
        const r = await json(`http://127.0.0.1:${audit}/v1/audit/verifications/latest`);
        return r.body.state !== 'running' ? r.body : null;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(verified).toMatchObject({ id: started.body.id, state: 'passed', report: { ok: true, findings: [] } });
    expect(verified.report.events).toBeGreaterThanOrEqual(history.items.length);

    // The gateway: every service's API and the web console on one origin, as the console uses them.
    const via = (path: string, init?: RequestInit) => json(`http://127.0.0.1:${gateway}${path}`, init);
    const page = await fetch(`http://127.0.0.1:${gateway}/console/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
    expect((await via('/v1/me')).body).toMatchObject({ role: 'admin' });
    expect((await via(`/v1/customers/smoke-co/entitlements?minPosition=${position}`)).body.items).toHaveLength(1);
    expect((await via('/v1/customers/smoke-co/usage')).body.meters).toEqual(expect.arrayContaining([expect.objectContaining({ feature: 'api_calls', used: 100_001 })]));
    expect((await via('/v1/customers/smoke-co/alerts')).status).toBe(200);
    expect((await via('/v1/check', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ customerId: 'smoke-co', feature: 'reports.export' }) })).body).toMatchObject({ allowed: true });
    expect((await via('/v1/audit/tree-heads/latest')).body).toMatchObject({ kid: expect.stringMatching(/^audit-/) });
    const keys = (await via('/.well-known/jwks.json')).body.keys as { use: string }[];
    expect(keys.map((k) => k.use).sort()).toEqual(['audit', 'sig']);

    // Ctrl-C stops every service and the PostgreSQL it started.
    launcher.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('stopping PostgreSQL');
    for (const p of [ledger, projector, enforcement, metering, audit, gateway]) {
      await expect(fetch(`http://127.0.0.1:${p}/health`)).rejects.toThrow();
    }
  });
});
