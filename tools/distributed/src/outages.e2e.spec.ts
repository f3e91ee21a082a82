import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithKafka, freePort, postgresBackend, until } from '@el/testing';
import { LocalStack, SERVICE_NAMES, type ServiceName } from './stack';

// The local distributed stack with its own broker and PostgreSQL, which this suite kills (SIGKILL)
// and starts again mid-run, and each service killed and restarted under load.
describeWithKafka('dependency outages and crashes (local distributed stack)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'el-outages-'));
  let stack: LocalStack;
  let auth: Record<string, string> = {};
  let log = '';
  const tag = Date.now().toString(36);

  /** The test, with the services' log (its tail) shown when it fails. */
  const showingLog = (test: () => Promise<void>) => async () => {
    try {
      await test();
    } catch (err) {
      process.stderr.write(`--- services' log (tail) ---\n${log.slice(-30_000)}\n`);
      throw err;
    }
  };

  beforeAll(showingLog(async () => {
    if (postgresBackend.unavailable) throw new Error(`PostgreSQL is needed: ${postgresBackend.unavailable}`);
    const [projector, ledger, enforcement, metering, audit] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    stack = new LocalStack({
      dataDir,
      ports: { projector, ledger, enforcement, metering, audit },
      logLevel: process.env['OUTAGES_LOG_LEVEL'] ?? 'warn',
      env: { CHECK_MAX_WAIT_MS: '10000' },
      output: (service, chunk) => {
        log += chunk
          .split('\n')
          .filter(Boolean)
          .map((l) => `[${service}] ${l}\n`)
          .join('');
        if (log.length > 400_000) log = log.slice(-200_000);
      },
      say: (line) => (log += `[stack] ${line}\n`),
    });
    await stack.start();
    auth = { authorization: `Bearer ${readFileSync(join(dataDir, 'admin-api-key'), 'utf8').trim()}` };
    // The enforcement service learns the key from Kafka.
    await until('the enforcement service to accept the admin key', async () => (await call('enforcement', '/v1/view/customers/nobody/entitlements')).status === 200, { timeoutMs: 30_000, intervalMs: 100 });
  }), 240_000);

  afterAll(async () => {
    await stack?.stop();
    if (process.env['OUTAGES_LOG']) writeFileSync(process.env['OUTAGES_LOG'], log);
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function call(service: ServiceName, path: string, init: RequestInit = {}): Promise<{ status: number; body: any; ms: number }> {
    const started = performance.now();
    const res = await fetch(`${stack.url(service)}${path}`, { ...init, headers: { ...auth, 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) }, signal: AbortSignal.timeout(15_000) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, ms: performance.now() - started };
  }

  /** Orders placed through the REST API until stopped: the ones acknowledged (201) must all exist, once. */
  function orderLoad(label: string) {
    const acknowledged: { orderId: string; customerId: string; position: number }[] = [];
    const refused: string[] = [];
    let n = 0;
    let running = true;
    const loop = (async () => {
      while (running) {
        n += 1;
        const orderId = `SO-${tag}-${label}-${n}`;
        const customerId = `cust-${tag}-${label}-${n}`;
        try {
          const r = await call('ledger', '/v1/orders', { method: 'POST', body: JSON.stringify({ orderId, customerId, lines: [{ lineId: '1', sku: 'ANL-PRO', quantity: 1, action: 'new' }] }) });
          if (r.status === 201) acknowledged.push({ orderId, customerId, position: r.body.position });
          else refused.push(`${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
        } catch (err) {
          refused.push((err as Error).message);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    return {
      acknowledged,
      refused,
      count: () => acknowledged.length,
      stop: async () => {
        running = false;
        await loop;
      },
    };
  }

  /** Every acknowledged order: fulfilled once, one row in the read models, allowed by the enforcement service. */
  async function expectAllApplied(orders: readonly { orderId: string; customerId: string; position: number }[]): Promise<void> {
    expect(orders.length).toBeGreaterThan(0);
    const last = Math.max(...orders.map((o) => o.position));
    const problems: string[] = [];
    const one = async (o: (typeof orders)[number]) => {
      const rows = await call('ledger', `/v1/customers/${o.customerId}/entitlements?minPosition=${last}`);
      if (rows.status !== 200 || rows.body.items.length !== 1) problems.push(`${o.orderId}: read model ${rows.status} ${JSON.stringify(rows.body).slice(0, 200)}`);
      const check = await call('enforcement', '/v1/check', { method: 'POST', body: JSON.stringify({ customerId: o.customerId, feature: 'reports.export', minPosition: last }) });
      if (check.body?.allowed !== true) problems.push(`${o.orderId}: check ${check.status} ${JSON.stringify(check.body).slice(0, 200)}`);
    };
    for (let i = 0; i < orders.length; i += 16) await Promise.all(orders.slice(i, i + 16).map(one));
    expect(problems).toEqual([]);
  }

  async function healthOf(service: ServiceName): Promise<{ status: number; body: any; ms: number }> {
    const started = performance.now();
    const res = await fetch(`${stack.url(service)}/health`, { signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: await res.json(), ms: performance.now() - started };
  }

  const allHealthy = async () => (await Promise.all(SERVICE_NAMES.map(async (s) => (stack.isRunning(s) ? (await healthOf(s)).status : 200)))).every((s) => s === 200);

  it('Kafka killed: /health answers at once with the bus down (503), writes go on, a stop keeps its deadline, and all resumes when the broker is back', showingLog(async () => {
    const load = orderLoad('kafka');
    await until('some orders before the outage', () => load.count() >= 10, { timeoutMs: 30_000 });

    await stack.killKafka();
    const killed = performance.now();
    const before = load.count();
    // Every service uses Kafka: each says so, measured (not a constant), within a second.
    const reports = await until(
      'every service to report the bus down',
      async () => {
        const all = await Promise.all(SERVICE_NAMES.map(async (s) => [s, await healthOf(s)] as const));
        return all.every(([, h]) => h.status === 503 && h.body.components.bus.status === 'down') ? all : null;
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    for (const [service, h] of reports) {
      expect({ service, bus: h.body.components.bus.error }).toEqual({ service, bus: expect.stringContaining('the brokers do not answer') });
      // Bounded, whatever the broker does (it hung for minutes before): the checks run at once, each cut off at 800 ms.
      expect({ service, ms: h.ms }).toEqual({ service, ms: expect.any(Number) });
      expect(h.ms).toBeLessThan(2_000);
    }

    process.stderr.write(`[outages] Kafka killed → every service 503 with the bus down after ${Math.round(performance.now() - killed)} ms\n`);
    // The ledger keeps taking orders: the event store is its outbox; the relay publishes them later.
    await until('orders acknowledged while Kafka is down', () => load.count() >= before + 10, { timeoutMs: 30_000 });

    // A stop during the outage finishes within its deadline, cleanly.
    const stopped = await stack.stopService('metering');
    expect({ code: stopped.code, within: stopped.ms < 10_000 }).toEqual({ code: 0, within: true });

    const relayedBefore = (await healthOf('projector')).body.components.relay.position as number;
    await stack.startKafka();
    const back = performance.now();
    log += `[stack] Kafka is back at ${new Date().toISOString()}\n`;
    // When the relay publishes again, and when every consumer of the enforcement service is consuming again.
    const resumed = { relay: 0, consumers: 0 };
    const watching = until('the relay and the consumers to resume', async () => {
      const [projector, enforcement] = await Promise.all([healthOf('projector'), healthOf('enforcement')]);
      if (!resumed.relay && projector.body.components.relay.position > relayedBefore) resumed.relay = performance.now() - back;
      const consumers = (enforcement.body.components.bus.consumers ?? []) as { state: string }[];
      if (!resumed.consumers && consumers.length > 0 && consumers.every((c) => c.state === 'consuming')) resumed.consumers = performance.now() - back;
      return resumed.relay > 0 && resumed.consumers > 0;
    }, { timeoutMs: 60_000, intervalMs: 50 });
    await until('every running service healthy again, without a restart', allHealthy, { timeoutMs: 60_000, intervalMs: 100 });
    const healthyMs = performance.now() - back;
    await watching;
    // An order taken now is enforceable once the relay and the enforcement service's consumer have resumed.
    const enforceable = await until('an order placed after the broker came back to be enforceable', async () => {
      const o = load.acknowledged[load.acknowledged.length - 1]!;
      const check = await call('enforcement', '/v1/check', { method: 'POST', body: JSON.stringify({ customerId: o.customerId, feature: 'reports.export' }) });
      return check.body?.allowed === true && performance.now();
    }, { timeoutMs: 60_000, intervalMs: 50 });
    process.stderr.write(
      `[outages] Kafka back → the relay publishing again after ${Math.round(resumed.relay)} ms, the enforcement service's consumers consuming after ${Math.round(resumed.consumers)} ms, ` +
        `every running service healthy after ${Math.round(healthyMs)} ms, the newest order enforceable after ${Math.round(enforceable - back)} ms\n`,
    );
    await stack.startService('metering');
    await load.stop();
    expect(load.refused).toEqual([]);
    const applying = performance.now();
    await expectAllApplied(load.acknowledged);
    process.stderr.write(`[outages] ${load.acknowledged.length} orders checked in ${Math.round(performance.now() - applying)} ms\n`);
  }), 240_000);

  it('PostgreSQL killed: /health names it (503), orders are still taken, and everything catches up when it is back', showingLog(async () => {
    const load = orderLoad('pg');
    await until('some orders before the outage', () => load.count() >= 10, { timeoutMs: 30_000 });

    await stack.killPostgres();
    const before = load.count();
    const components: Record<string, string> = { projector: 'readModels', metering: 'metering', audit: 'audit', ledger: 'readModels' };
    for (const [service, component] of Object.entries(components) as [ServiceName, string][]) {
      const h = await until(`${service} to report ${component} down`, async () => {
        const r = await healthOf(service);
        return r.status === 503 && r.body.components[component].status === 'down' ? r : null;
      }, { timeoutMs: 15_000, intervalMs: 200 });
      expect(h.ms).toBeLessThan(2_000);
    }
    await until('orders acknowledged while PostgreSQL is down', () => load.count() >= before + 10, { timeoutMs: 30_000 });
    // A query that needs it: 503 to retry (the request was fine), not a 500.
    expect(await call('ledger', '/v1/customers/anyone/entitlements')).toMatchObject({ status: 503, body: { code: 'DEPENDENCY.UNAVAILABLE' } });

    await stack.startPostgres();
    const back = performance.now();
    await until('every service healthy again, without a restart', allHealthy, { timeoutMs: 60_000, intervalMs: 100 });
    process.stderr.write(`[outages] PostgreSQL back → every service healthy in ${Math.round(performance.now() - back)} ms\n`);
    await load.stop();
    expect(load.refused).toEqual([]);
    await expectAllApplied(load.acknowledged);
  }), 240_000);

  it('each service killed with SIGKILL under load is ready again in seconds (not after its dead consumer session times out), with nothing lost', showingLog(async () => {
    const load = orderLoad('kill');
    await until('some orders first', () => load.count() >= 10, { timeoutMs: 30_000 });
    const readyMs: Record<string, number> = {};
    for (const service of SERVICE_NAMES) {
      await stack.killService(service);
      readyMs[service] = Math.round(await stack.startService(service, 60_000));
      await until(`orders after ${service}'s restart`, async () => load.count() > 0, { timeoutMs: 10_000 });
    }
    process.stderr.write(`[outages] ready after SIGKILL + restart (ms): ${JSON.stringify(readyMs)}\n`);
    // The session timeout of a killed member is 30 s: a restart that waited for it would take longer than this.
    for (const [service, ms] of Object.entries(readyMs)) expect({ service, fast: ms < 20_000 }).toEqual({ service, fast: true });
    await load.stop();
    // A request in flight on a killed ledger may fail; every acknowledged one must be there, once.
    await expectAllApplied(load.acknowledged);
  }), 300_000);
});
