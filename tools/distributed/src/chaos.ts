/**
 * npm run chaos — the local distributed stack (tools/distributed/src/stack.ts:
 * Kafka, PostgreSQL, ledger, projector, enforcement, metering, audit) under
 * mixed load — ERP orders on Kafka, REST orders and seat assignments, usage,
 * checks — while, in each round, one part picked at random is killed with
 * SIGKILL and started again. After every round, with the load stopped:
 *
 *   exactly once    every write is re-sent until acknowledged (the same ids), then each is there once:
 *                   one entitlement per order's customer, every seat assigned, usage counted once
 *   read models     equal a rebuild from the event store into an empty database
 *   view            the enforcement view equals one built from scratch (a new instance, a new group)
 *   counters        the metering counters equal a recount from the raw usage events, and the usage sent
 *   audit           the audit service verifies its tree against the event store
 *
 * Prints a table row per round; exits 1 if any check fails. Settings:
 *   CHAOS_ROUNDS (6), CHAOS_LOAD_SECONDS (8), CHAOS_SEED (random, printed),
 *   CHAOS_TARGETS (all: ledger,projector,enforcement,metering,audit,kafka,postgres), or
 *   CHAOS_ORDER (those targets in this order, one per round, round after round: no dice),
 *   CHAOS_DATA_DIR (a temp dir, removed unless CHAOS_KEEP=1 or a check failed),
 *   CHAOS_LOG_LEVEL (warn: the services' log, in <data dir>/services.log).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { Client } from 'pg';
import { SqliteEventStore } from '@el/event-store';
import { METERING_SCHEMA, rebuildMeteringCounters } from '@el/metering-service';
import { dumpReadModels, openReadModels, rebuildReadModels } from '@el/read-models';
import { freePort, repoRoot, until } from '@el/testing';
import { ensureDatabase, LocalStack, postgresDir, SERVICE_NAMES, type ServiceName } from './stack';

const ROOT = repoRoot(__dirname);
type Target = ServiceName | 'kafka' | 'postgres';
const ALL_TARGETS: readonly Target[] = [...SERVICE_NAMES, 'kafka', 'postgres'];

function settings() {
  const int = (name: string, fallback: number) => {
    const raw = process.env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name}: a whole number ≥ 1, got "${raw}"`);
    return n;
  };
  const order = process.env['CHAOS_ORDER'] || '';
  const variable = order ? 'CHAOS_ORDER' : 'CHAOS_TARGETS';
  const targets = (order || process.env['CHAOS_TARGETS'] || ALL_TARGETS.join(',')).split(',').map((t) => t.trim()) as Target[];
  const unknown = targets.filter((t) => !ALL_TARGETS.includes(t));
  if (unknown.length > 0) throw new Error(`${variable}: unknown ${unknown.join(', ')} (choose from ${ALL_TARGETS.join(', ')})`);
  return {
    rounds: int('CHAOS_ROUNDS', 6),
    loadSeconds: int('CHAOS_LOAD_SECONDS', 8),
    seed: int('CHAOS_SEED', Math.floor(Math.random() * 1_000_000) + 1),
    targets,
    ordered: Boolean(order),
    dataDir: process.env['CHAOS_DATA_DIR'] || mkdtempSync(join(tmpdir(), 'el-chaos-')),
    keep: process.env['CHAOS_KEEP'] === '1',
  };
}

/** A small seeded generator (mulberry32): a run is repeated with its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One HTTP call. A connection that fails before an answer (refused while a service restarts, or a
 * kept-alive socket the server closed just as it was reused: undici's "fetch failed") is tried
 * again, up to 5 times 200 ms apart; every write the driver sends is idempotent by its id. A timeout
 * is not retried. The last error names the request and the cause.
 */
async function request(url: string, auth: Record<string, string>, init: { method?: string; body?: unknown; timeoutMs?: number } = {}): Promise<{ status: number; body: any }> {
  for (let attempt = 1; ; attempt++) {
    let res: Response;
    try {
      res = await fetch(url, {
        method: init.method ?? 'GET',
        headers: { ...auth, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
        signal: AbortSignal.timeout(init.timeoutMs ?? 15_000),
      });
    } catch (err) {
      if (!(err instanceof TypeError && err.message === 'fetch failed')) throw err;
      if (attempt >= 5) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw new Error(`${init.method ?? 'GET'} ${url}: no answer after ${attempt} attempts (${cause?.code ?? cause?.message ?? 'connection failed'})`);
      }
      await sleep(200);
      continue;
    }
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }
}
const say = (line: string) => process.stderr.write(`[chaos] ${line}\n`);

interface Order {
  readonly orderId: string;
  readonly customerId: string;
  readonly via: 'erp' | 'rest';
  acked: boolean;
}
interface Usage {
  readonly id: string;
  readonly customerId: string;
  readonly quantity: number;
  acked: boolean;
}
interface Seat {
  readonly entitlementId: string;
  readonly customerId: string;
  readonly userId: string;
  acked: boolean;
}

interface RoundResult {
  round: number;
  killed: Target;
  readyMs: number;
  orders: number;
  seats: number;
  usage: number;
  checks: string;
  checks4xx5xx: number;
  exactlyOnce: string;
  readModels: string;
  view: string;
  counters: string;
  audit: string;
  seconds: number;
}

class Chaos {
  private readonly stack: LocalStack;
  private auth: Record<string, string> = {};
  private producer: Producer | null = null;
  private readonly orders: Order[] = [];
  private readonly usage: Usage[] = [];
  private readonly seats: Seat[] = [];
  /** Customers with an entitlement of 1,000 seats: where usage and seat assignments go. */
  private readonly meteredCustomers: { customerId: string; entitlementId: string }[] = [];
  private n = 0;
  private readonly logFile: string;
  private checks = { ok: 0, failed: 0 };

  constructor(
    private readonly options: ReturnType<typeof settings>,
    private readonly rnd: () => number,
    ports: Record<ServiceName, number>,
  ) {
    this.logFile = join(options.dataDir, 'services.log');
    this.stack = new LocalStack({
      dataDir: options.dataDir,
      ports,
      logLevel: process.env['CHAOS_LOG_LEVEL'] || 'warn',
      env: { CHECK_MAX_WAIT_MS: '10000' },
      output: (service, chunk) => appendFileSync(this.logFile, chunk.split('\n').filter(Boolean).map((l) => `[${service}] ${l}\n`).join('')),
      say: (line) => say(line),
    });
  }

  /** One HTTP call to a service (see `request`). */
  private call(service: ServiceName, path: string, init: { method?: string; body?: unknown; timeoutMs?: number } = {}): Promise<{ status: number; body: any }> {
    return request(`${this.stack.url(service)}${path}`, this.auth, init);
  }

  async start(): Promise<void> {
    say(`data and the services' log in ${this.options.dataDir}`);
    await this.stack.start();
    this.auth = { authorization: `Bearer ${readFileSync(join(this.options.dataDir, 'admin-api-key'), 'utf8').trim()}` };
    this.producer = new Kafka({ clientId: 'chaos-erp', brokers: this.stack.brokers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 2, maxRetryTime: 500 } }).producer({ idempotent: true });
    await this.producer.connect();
    // Customers that usage and seat assignments go to (the metering service learns them from Kafka).
    for (let i = 0; i < 10; i++) {
      const customerId = `metered-${i}`;
      const r = await this.call('ledger', '/v1/orders', { method: 'POST', body: { orderId: `SO-metered-${i}`, customerId, lines: [{ lineId: '1', sku: 'ANL-PRO', quantity: 1000, action: 'new' }] } });
      if (r.status !== 201 && r.status !== 200) throw new Error(`setting up ${customerId}: ${r.status} ${JSON.stringify(r.body)}`);
      this.meteredCustomers.push({ customerId, entitlementId: r.body.lines[0].entitlementId });
    }
    await until('the enforcement service to accept the admin key', async () => (await this.call('enforcement', '/v1/view/customers/metered-0/entitlements')).status === 200, { timeoutMs: 60_000, intervalMs: 200 });
    await until('the metering service to know the metered customers', async () => (await this.call('metering', '/v1/customers/metered-9/usage')).status === 200, { timeoutMs: 60_000, intervalMs: 200 });
  }

  // --- writes, each re-sent with the same ids until acknowledged ---

  private async sendOrder(o: Order): Promise<void> {
    try {
      if (o.via === 'erp') {
        await this.producer!.send({ topic: 'erp.orders.v1', acks: -1, messages: [{ key: o.orderId, value: JSON.stringify({ orderId: o.orderId, customerId: o.customerId, lines: [{ lineId: '1', sku: 'ANL-PRO', quantity: 1, action: 'new' }] }) }] });
        o.acked = true;
      } else {
        const r = await this.call('ledger', '/v1/orders', { method: 'POST', body: { orderId: o.orderId, customerId: o.customerId, lines: [{ lineId: '1', sku: 'ANL-PRO', quantity: 1, action: 'new' }] } });
        o.acked = r.status === 201 || r.status === 200;
      }
    } catch {
      /* not acknowledged: sent again later */
    }
  }

  private async sendUsage(u: Usage): Promise<void> {
    try {
      const r = await this.call('metering', '/v1/usage', {
        method: 'POST',
        body: { events: [{ id: u.id, source: 'urn:app:chaos', type: 'io.ledger.usage.v1', subject: u.customerId, time: new Date().toISOString(), data: { feature: 'api_calls', quantity: u.quantity } }] },
      });
      const status = r.status === 200 ? r.body.results?.[0]?.status : null;
      u.acked = status === 'accepted' || status === 'duplicate';
    } catch {
      /* sent again later */
    }
  }

  private async sendSeat(s: Seat): Promise<void> {
    try {
      const r = await this.call('ledger', `/v1/entitlements/${s.entitlementId}/seat-assignments`, { method: 'POST', body: { userId: s.userId } });
      // 409 SEAT.ALREADY_ASSIGNED on a re-send: the earlier attempt landed.
      s.acked = r.status === 201 || r.status === 200 || (r.status === 409 && r.body?.code === 'SEAT.ALREADY_ASSIGNED');
    } catch {
      /* sent again later */
    }
  }

  private async check(): Promise<void> {
    const known = this.orders.filter((o) => o.acked);
    const o = known[Math.floor(this.rnd() * known.length)];
    if (!o) return;
    try {
      const r = await this.call('enforcement', '/v1/check', { method: 'POST', body: { customerId: o.customerId, feature: 'reports.export' }, timeoutMs: 5_000 });
      if (r.status === 200) this.checks.ok += 1;
      else this.checks.failed += 1;
    } catch {
      this.checks.failed += 1;
    }
  }

  /** The mixed load until `stop` resolves: four loops at once. */
  private load(stop: Promise<void>): Promise<void> {
    let running = true;
    void stop.then(() => (running = false));
    const loop = async (every: number, step: () => Promise<void>) => {
      while (running) {
        await step();
        await sleep(every);
      }
    };
    const tag = () => `${Date.now().toString(36)}-${(this.n += 1)}`;
    return Promise.all([
      loop(40, async () => {
        const id = tag();
        const via = this.rnd() < 0.5 ? 'erp' : 'rest';
        const o: Order = { orderId: `SO-chaos-${id}`, customerId: `chaos-${id}`, via, acked: false };
        this.orders.push(o);
        await this.sendOrder(o);
      }),
      loop(30, async () => {
        const m = this.meteredCustomers[Math.floor(this.rnd() * this.meteredCustomers.length)]!;
        const u: Usage = { id: `u-${tag()}`, customerId: m.customerId, quantity: 1 + Math.floor(this.rnd() * 5), acked: false };
        this.usage.push(u);
        await this.sendUsage(u);
      }),
      loop(100, async () => {
        const m = this.meteredCustomers[Math.floor(this.rnd() * this.meteredCustomers.length)]!;
        const s: Seat = { entitlementId: m.entitlementId, customerId: m.customerId, userId: `user-${tag()}`, acked: false };
        this.seats.push(s);
        await this.sendSeat(s);
      }),
      loop(20, () => this.check()),
    ]).then(() => undefined);
  }

  private async kill(target: Target): Promise<number> {
    const down = 500 + Math.floor(this.rnd() * 1500);
    if (target === 'kafka') {
      await this.stack.killKafka();
      await sleep(down);
      await this.stack.startKafka();
    } else if (target === 'postgres') {
      await this.stack.killPostgres();
      await sleep(down);
      await this.stack.startPostgres();
    } else {
      await this.stack.killService(target);
      await sleep(down);
      return this.stack.startService(target, 120_000);
    }
    // A dependency is back: how long until every service says it is ready again (no restart).
    const back = performance.now();
    await until('every service ready again', async () => (await Promise.all(SERVICE_NAMES.map((s) => this.call(s, '/health', { timeoutMs: 3_000 }).then((r) => r.status, () => 0)))).every((s) => s === 200), { timeoutMs: 120_000, intervalMs: 100 });
    return performance.now() - back;
  }

  async round(round: number): Promise<RoundResult> {
    const started = performance.now();
    const target = this.options.ordered ? this.options.targets[(round - 1) % this.options.targets.length]! : this.options.targets[Math.floor(this.rnd() * this.options.targets.length)]!;
    this.checks = { ok: 0, failed: 0 };
    const before = { orders: this.orders.length, usage: this.usage.length, seats: this.seats.length };
    let release!: () => void;
    const stop = new Promise<void>((r) => (release = r));
    const load = this.load(stop);
    await sleep((this.options.loadSeconds * 1000) / 2);
    say(`round ${round}: killing ${target}`);
    const readyMs = await this.kill(target);
    await sleep((this.options.loadSeconds * 1000) / 2);
    release();
    await load;

    const exactlyOnce = await this.resendAndCount();
    const [readModels, view, counters, audit] = [await this.compareReadModels(), await this.compareView(), await this.compareCounters(), await this.verifyAudit()];
    return {
      round,
      killed: target,
      readyMs: Math.round(readyMs),
      orders: this.orders.length - before.orders,
      seats: this.seats.length - before.seats,
      usage: this.usage.length - before.usage,
      checks: `${this.checks.ok}/${this.checks.ok + this.checks.failed}`,
      checks4xx5xx: this.checks.failed,
      exactlyOnce,
      readModels,
      view,
      counters,
      audit,
      seconds: Math.round((performance.now() - started) / 100) / 10,
    };
  }

  /** Re-sends what was not acknowledged (same ids), then checks each write is there once. */
  private async resendAndCount(): Promise<string> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const pending = [...this.orders.filter((o) => !o.acked).map((o) => () => this.sendOrder(o)), ...this.usage.filter((u) => !u.acked).map((u) => () => this.sendUsage(u)), ...this.seats.filter((s) => !s.acked).map((s) => () => this.sendSeat(s))];
      if (pending.length === 0) break;
      if (Date.now() > deadline) return `✗ ${pending.length} writes never acknowledged`;
      for (let i = 0; i < pending.length; i += 16) await Promise.all(pending.slice(i, i + 16).map((p) => p()));
      await sleep(200);
    }
    // ERP orders are applied asynchronously: wait for the ledger to fulfil every one.
    const erp = this.orders.filter((o) => o.via === 'erp');
    const unfulfilled = async () => {
      const missing: string[] = [];
      for (let i = 0; i < erp.length; i += 32) {
        const results = await Promise.all(erp.slice(i, i + 32).map(async (o) => ((await this.call('ledger', `/v1/orders/${o.orderId}`)).body?.status === 'fulfilled' ? null : o.orderId)));
        missing.push(...(results.filter(Boolean) as string[]));
      }
      return missing;
    };
    let missing: string[] = [];
    await until('every ERP order fulfilled', async () => (missing = await unfulfilled()).length === 0, { timeoutMs: 120_000, intervalMs: 500 }).catch(() => undefined);
    if (missing.length > 0) return `✗ ${missing.length} ERP orders not fulfilled (e.g. ${missing[0]})`;
    const head = (await this.call('ledger', '/health')).body.components.eventStore.head as number;
    const problems: string[] = [];
    for (let i = 0; i < this.orders.length; i += 32) {
      await Promise.all(
        this.orders.slice(i, i + 32).map(async (o) => {
          const r = await this.call('ledger', `/v1/customers/${o.customerId}/entitlements?minPosition=${head}`);
          if (r.status !== 200 || r.body.items.length !== 1) problems.push(`${o.orderId}: ${r.status} ${r.body?.items?.length ?? JSON.stringify(r.body)} entitlements`);
        }),
      );
    }
    for (const m of this.meteredCustomers) {
      const e = (await this.call('ledger', `/v1/entitlements/${m.entitlementId}`)).body;
      const expected = this.seats.filter((s) => s.entitlementId === m.entitlementId).map((s) => s.userId).sort();
      const actual = [...(e.assignedUsers ?? [])].sort();
      if (JSON.stringify(expected) !== JSON.stringify(actual)) problems.push(`${m.entitlementId}: ${actual.length} seats assigned, ${expected.length} acknowledged`);
    }
    return problems.length === 0 ? `✓ ${this.orders.length} orders, ${this.seats.length} seats` : `✗ ${problems.length}: ${problems[0]}`;
  }

  /** The live read models (PostgreSQL) against a rebuild from the event store into an empty database. */
  private async compareReadModels(): Promise<string> {
    const head = (await this.call('ledger', '/health')).body.components.eventStore.head as number;
    // Waits until the projector has applied everything up to the head.
    await until('the read models at the head', async () => (await this.call('ledger', `/v1/customers/none/entitlements?minPosition=${head}`)).status === 200, { timeoutMs: 60_000, intervalMs: 200 });
    const server = new URL(this.stack.readDbUrl);
    server.pathname = '/postgres';
    const admin = new Client({ connectionString: server.toString() });
    await admin.connect();
    await admin.query('DROP DATABASE IF EXISTS chaos_rebuild');
    await admin.end();
    const freshUrl = await ensureDatabase(server.toString(), 'chaos_rebuild');
    const [live, fresh] = [await openReadModels({ kind: 'postgres', url: this.stack.readDbUrl, poolSize: 2 }), await openReadModels({ kind: 'postgres', url: freshUrl, poolSize: 2 })];
    const store = SqliteEventStore.open({ path: join(this.options.dataDir, 'events.db') });
    try {
      await rebuildReadModels(fresh, store, { subscriptionId: 'read-models', batchSize: 2000 });
      const [a, b] = [await dumpReadModels(live), await dumpReadModels(fresh)];
      const differing = Object.keys(b).filter((t) => JSON.stringify(a[t]) !== JSON.stringify(b[t]));
      const rows = Object.values(b).reduce((n, r) => n + r.length, 0);
      return differing.length === 0 ? `✓ ${rows} rows` : `✗ ${differing.join(', ')} differ`;
    } finally {
      await store.close();
      await live.destroy();
      await fresh.destroy();
    }
  }

  /** The live enforcement view against a new instance's (its own group, from the beginning of the topic). */
  private async compareView(): Promise<string> {
    const port = await freePort();
    const id = `chaos-scratch-${Date.now().toString(36)}`;
    const env = { ...this.stack.environment('enforcement'), PORT: String(port), ENFORCEMENT_INSTANCE_ID: id, ENFORCEMENT_DATA_DIR: join(this.options.dataDir, id) };
    const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'dist', 'apps', 'enforcement', 'src', 'main.js')], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'ignore'] });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      const head = (await this.call('ledger', '/health')).body.components.eventStore.head as number;
      const scratch = (path: string) => request(`http://127.0.0.1:${port}${path}`, this.auth, { timeoutMs: 10_000 });
      await until('the new view to reach the head', async () => ((await scratch('/health').catch(() => null))?.body.components?.enforcementView?.position ?? 0) >= head, { timeoutMs: 120_000, intervalMs: 200 });
      await until('the live view to reach the head', async () => (await this.call('enforcement', '/health')).body.components.enforcementView.position >= head, { timeoutMs: 60_000, intervalMs: 200 });
      const customers = [...new Set([...this.orders.map((o) => o.customerId), ...this.meteredCustomers.map((m) => m.customerId)])];
      const differing: string[] = [];
      for (let i = 0; i < customers.length; i += 32) {
        await Promise.all(
          customers.slice(i, i + 32).map(async (c) => {
            const [a, b] = [await this.call('enforcement', `/v1/view/customers/${c}/entitlements`), await scratch(`/v1/view/customers/${c}/entitlements`)];
            if (JSON.stringify(a.body.items) !== JSON.stringify(b.body.items)) differing.push(c);
          }),
        );
      }
      return differing.length === 0 ? `✓ ${customers.length} customers` : `✗ ${differing.length} differ (e.g. ${differing[0]})`;
    } finally {
      child.kill('SIGKILL');
      await exited;
      rmSync(join(this.options.dataDir, id), { recursive: true, force: true });
    }
  }

  /** The counters against the usage acknowledged, and against a recount from the raw usage events (on a copy of the store). */
  private async compareCounters(): Promise<string> {
    const problems: string[] = [];
    for (const m of this.meteredCustomers) {
      const sent = this.usage.filter((u) => u.customerId === m.customerId).reduce((n, u) => n + u.quantity, 0);
      const used = await until(`${m.customerId}'s usage counted`, async () => {
        const meters = (await this.call('metering', `/v1/customers/${m.customerId}/usage`)).body?.meters as { feature: string; used: number }[] | undefined;
        const u = meters?.find((x) => x.feature === 'api_calls')?.used ?? 0;
        return u === sent ? u : null;
      }, { timeoutMs: 30_000, intervalMs: 200 }).catch(async () => ((await this.call('metering', `/v1/customers/${m.customerId}/usage`)).body?.meters ?? []).find((x: { feature: string }) => x.feature === 'api_calls')?.used ?? 0);
      if (used !== sent) problems.push(`${m.customerId}: ${used} counted, ${sent} sent`);
    }
    // A recount on a copy of the metering database (the live one keeps serving).
    const server = new URL(this.stack.readDbUrl);
    server.pathname = '/postgres';
    const admin = new Client({ connectionString: server.toString() });
    await admin.connect();
    const meteringDb = 'metering';
    try {
      await admin.query('DROP DATABASE IF EXISTS chaos_metering_copy');
      // A template copy needs the source without connections: the metering service is stopped for it.
      await this.stack.stopService('metering');
      await admin.query(`CREATE DATABASE chaos_metering_copy TEMPLATE ${meteringDb}`);
    } finally {
      await admin.end();
      await this.stack.startService('metering', 120_000);
    }
    const copyUrl = new URL(this.stack.readDbUrl);
    copyUrl.pathname = '/chaos_metering_copy';
    const copy = await openReadModels({ kind: 'postgres', url: copyUrl.toString(), poolSize: 2 }, METERING_SCHEMA);
    try {
      const dump = async () => ((await copy.query('SELECT * FROM mt_counters')) as Record<string, unknown>[]).map((r) => JSON.stringify(r)).sort();
      const before = await dump();
      await rebuildMeteringCounters(copy);
      const after = await dump();
      if (JSON.stringify(before) !== JSON.stringify(after)) problems.push(`mt_counters differ from a recount (${before.length} rows, ${after.length} recounted)`);
      return problems.length === 0 ? `✓ ${before.length} counters` : `✗ ${problems[0]}`;
    } finally {
      await copy.destroy();
    }
  }

  private async verifyAudit(): Promise<string> {
    const head = (await this.call('ledger', '/health')).body.components.eventStore.head as number;
    await until('the audit log at the head', async () => ((await this.call('audit', '/health')).body.components.audit.lastPosition as number) >= head, { timeoutMs: 60_000, intervalMs: 200 }).catch(() => undefined);
    const started = await this.call('audit', '/v1/audit/verifications', { method: 'POST' });
    if (started.status !== 202) return `✗ ${started.status} ${JSON.stringify(started.body).slice(0, 100)}`;
    const done = await until('the verification to finish', async () => {
      const r = await this.call('audit', '/v1/audit/verifications/latest');
      return r.body?.state !== 'running' ? r.body : null;
    }, { timeoutMs: 120_000, intervalMs: 200 });
    return done.state === 'passed' ? `✓ ${done.report.events} events` : `✗ ${done.state}: ${JSON.stringify(done.report?.findings?.[0] ?? done.error ?? '').slice(0, 100)}`;
  }

  async stop(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
    await this.stack.stop();
  }
}

function table(rows: readonly RoundResult[]): string {
  const head = '| round | killed (SIGKILL) | ready again (ms) | orders | seats | usage events | checks answered | exactly once | read models = rebuild | view = from scratch | counters = recount | audit verifies | round (s) |';
  const line = '|---|---|---|---|---|---|---|---|---|---|---|---|---|';
  return [head, line, ...rows.map((r) => `| ${r.round} | ${r.killed} | ${r.readyMs.toLocaleString('en-US')} | ${r.orders} | ${r.seats} | ${r.usage} | ${r.checks} | ${r.exactlyOnce} | ${r.readModels} | ${r.view} | ${r.counters} | ${r.audit} | ${r.seconds} |`)].join('\n');
}

async function main(): Promise<void> {
  const options = settings();
  say(`seed ${options.seed} (CHAOS_SEED=${options.seed} repeats this run's choices), ${options.rounds} rounds of ${options.loadSeconds} s, targets ${options.targets.join(', ')}`);
  const ports = Object.fromEntries(await Promise.all(SERVICE_NAMES.map(async (s) => [s, await freePort()] as const))) as Record<ServiceName, number>;
  const chaos = new Chaos(options, random(options.seed), ports);
  const rows: RoundResult[] = [];
  let failed = false;
  const interrupted = () => void chaos.stop().finally(() => process.exit(130));
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    await chaos.start();
    for (let round = 1; round <= options.rounds; round++) {
      const r = await chaos.round(round);
      rows.push(r);
      process.stdout.write(`${rows.length === 1 ? table(rows) : table([r]).split('\n').pop()}\n`);
      if ([r.exactlyOnce, r.readModels, r.view, r.counters, r.audit].some((c) => c.startsWith('✗'))) failed = true;
    }
  } catch (err) {
    failed = true;
    say(`failed: ${(err as Error).stack ?? String(err)}`);
    say(`the services' log: ${join(options.dataDir, 'services.log')}`);
  } finally {
    await chaos.stop();
    if (!options.keep && !failed) {
      rmSync(options.dataDir, { recursive: true, force: true });
      rmSync(postgresDir(options.dataDir), { recursive: true, force: true });
    }
  }
  process.stdout.write(`\n${failed ? 'FAILED' : 'every check passed'}: ${rows.length} of ${options.rounds} rounds (seed ${options.seed})\n`);
  process.exit(failed ? 1 : 0);
}

main().catch((err: unknown) => {
  process.stderr.write(`chaos: ${(err as Error).message}\n`);
  process.exit(2);
});
