/**
 * npm run bench:metering — usage ingestion and checks with usage on, each
 * against a baseline measured in the same run:
 *
 *  1. Embedded, HTTP → SQLite: the built embedded process (`dist/apps/embedded`)
 *     on a real socket; BENCH_USAGE_CLIENTS clients POST /v1/usage batches of
 *     1,000 new events (events/s accepted), then every batch again (all
 *     duplicates). Baseline: a raw multi-row INSERT of the same rows into a
 *     table of the same shape and indexes in the same SQLite file, once through
 *     the driver path the ledger uses (TypeORM query) and once with a prepared
 *     better-sqlite3 statement. A second row keeps UsageLedger.ingest called in
 *     process (no HTTP) on the same file.
 *  2. Check latency with usage on, on that process (counters populated):
 *     POST /v1/check for a metered feature and for an on/off feature — maximum
 *     req/s (autocannon) and p50/p99 of an open-loop load at half that rate.
 *  3. Kafka → PostgreSQL: the embedded process with BUS=kafka and
 *     METERING_DB=postgres (a real single-node broker, a real PostgreSQL with
 *     fsync on); BENCH_USAGE_EVENTS events produced to metering.usage.v1 (key =
 *     customer), timed until the usage position says every one is counted;
 *     then the same events again (new message ids), timed until the group's
 *     committed offsets reach the end. Baseline: a raw multi-row INSERT of the
 *     same rows into a table LIKE mt_usage_events INCLUDING ALL.
 *
 * BENCH_USAGE_EVENTS (default 200,000), BENCH_USAGE_CUSTOMERS (default 500),
 * BENCH_USAGE_CLIENTS (default 4), BENCH_HTTP_SECONDS (default 10),
 * BENCH_CONNECTIONS (default 32), BENCH_PARTS (default "embedded,checks,kafka": which to run),
 * BENCH_APP_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") to profile
 * the process under load.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { Client } from 'pg';
import type { EntitlementV1, UsageEventV1 } from '@el/contracts';
import { TOPICS } from '@el/contracts';
import { InProcessIntegrationEvents } from '@el/messaging';
import { MeterRegistry, meteringConfigSpec, METERING_SCHEMA, UsageAlerts, UsageCounters, UsageLedger, type MeteringConfig } from '@el/metering-service';
import { Clock, readConfig, SystemClock } from '@el/platform';
import { openReadModels } from '@el/read-models';
import { SqliteEventStore } from '@el/event-store';
import { createDatabase, freePort, startKafka, startPostgres } from '@el/testing';
import { benchDir, fmt, machine, table } from './bench-util';
import { maxLoad, openLoop, type LoadTarget } from './http-load';

const N = Number(process.env['BENCH_USAGE_EVENTS'] ?? 200_000);
const CUSTOMERS = Number(process.env['BENCH_USAGE_CUSTOMERS'] ?? 500);
const CLIENTS = Number(process.env['BENCH_USAGE_CLIENTS'] ?? 4);
const HTTP_SECONDS = Number(process.env['BENCH_HTTP_SECONDS'] ?? 10);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
const BATCH = 1000;
const PARTS = (process.env['BENCH_PARTS'] ?? 'embedded,checks,kafka').split(',');
/** The raw baseline's statement size: the ledger's own (500 rows a statement, one transaction per batch). */
const RAW_ROWS_PER_STATEMENT = 500;
const ROOT = join(__dirname, '..', '..', '..', '..');
const MAIN = join(ROOT, 'dist', 'apps', 'embedded', 'src', 'main.js');
/** ANL-PRO: api_calls metered (month, soft cap 100,000), dashboards on/off. */
const SKU = 'ANL-PRO';
const METERED = 'api_calls';
const UNMETERED = 'dashboards';

const rate = (events: number, seconds: number) => events / seconds;
const vs = (x: number, baseline: number) => `${fmt((x / baseline) * 100, 1)} %`;

interface App {
  readonly url: string;
  readonly child: ChildProcess;
  readonly auth: Record<string, string>;
  stop(): Promise<void>;
}

async function startApp(dataDir: string, env: Record<string, string>): Promise<App> {
  const port = await freePort();
  const nodeArgs = (process.env['BENCH_APP_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, MAIN], {
    cwd: ROOT,
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn', EXPIRY_SWEEP_INTERVAL_MS: '0', RATE_LIMIT_WRITES_PER_SECOND: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(`:${port}`)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`embedded process exited with ${code}: ${out}`)));
  });
  const auth = { authorization: `Bearer ${readFileSync(join(dataDir, 'admin-api-key'), 'utf8').trim()}` };
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    auth,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function call(app: App, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${app.url}${path}`, { method, headers: { 'content-type': 'application/json', ...app.auth }, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
  return JSON.parse(text);
}

/** Polls `probe` every 20 ms until it answers true (another process's state has no event to await). */
async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 30 * 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Customers {
  /** customer id → the entitlement that meters api_calls */
  readonly entitlementOf: ReadonlyMap<string, string>;
  readonly periodStart: string;
}

/** CUSTOMERS customers with an ANL-PRO entitlement each, granted through the API; waits until metering knows every meter. */
async function seed(app: App, prefix: string): Promise<Customers> {
  const entitlementOf = new Map<string, string>();
  const ids = Array.from({ length: CUSTOMERS }, (_, c) => `${prefix}-${c}`);
  for (let i = 0; i < ids.length; i += 8) {
    await Promise.all(ids.slice(i, i + 8).map(async (customerId) => entitlementOf.set(customerId, (await call(app, 'POST', '/v1/entitlements', { customerId, sku: SKU })).entitlementId)));
  }
  await until('metering to learn every meter', async () => {
    const h = await fetch(`${app.url}/health`).then((r) => r.json() as Promise<{ components: { metering?: { entitlements?: number } } }>);
    return (h.components.metering?.entitlements ?? 0) >= CUSTOMERS;
  });
  const usage = await call(app, 'GET', `/v1/customers/${ids[0]}/usage`);
  return { entitlementOf, periodStart: usage.meters.find((m: { feature: string }) => m.feature === METERED).periodStart };
}

function usageEvents(source: string, customers: readonly string[], time: string): UsageEventV1[] {
  return Array.from({ length: N }, (_, n) => ({ id: `evt-${n}`, source, type: 'io.ledger.usage.v1', subject: customers[n % customers.length]!, time, data: { feature: METERED, quantity: 1 + (n % 3), userId: `u-${n % 5000}` } }));
}

const batchesOf = <T>(xs: readonly T[], size: number): T[][] => Array.from({ length: Math.ceil(xs.length / size) }, (_, b) => xs.slice(b * size, (b + 1) * size));

/** The columns of mt_usage_events, in table order. */
const COLUMNS = ['source', 'id', 'payload_hash', 'customer_id', 'entitlement_id', 'feature', 'quantity', 'user_id', 'device_id', 'event_time', 'period_start', 'position', 'received_at', 'counted_as'] as const;

/** The 14 columns of mt_usage_events, for a raw insert of the same rows. */
function rowOf(e: UsageEventV1, c: Customers, position: number, receivedAt: string): unknown[] {
  return [e.source, e.id, 'f'.repeat(64), e.subject, c.entitlementOf.get(e.subject) ?? `e-${e.subject}`, e.data.feature, e.data.quantity, e.data.userId ?? null, null, e.time, c.periodStart, position, receivedAt, 'sum'];
}

/** Sends every body with CLIENTS clients at once; answers the seconds taken and the answers' totals. */
async function post(app: App, bodies: readonly string[]): Promise<{ seconds: number; accepted: number; duplicates: number; rejected: number }> {
  const totals = { accepted: 0, duplicates: 0, rejected: 0 };
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < bodies.length) {
        const answer = (await call(app, 'POST', '/v1/usage', bodies[next++]!)) as typeof totals;
        totals.accepted += answer.accepted;
        totals.duplicates += answer.duplicates;
        totals.rejected += answer.rejected;
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, ...totals };
}

function expectTotals(what: string, got: { accepted: number; duplicates: number; rejected: number }, want: { accepted: number; duplicates: number }): void {
  if (got.accepted !== want.accepted || got.duplicates !== want.duplicates || got.rejected !== 0) throw new Error(`${what}: ${JSON.stringify(got)}, expected ${JSON.stringify({ ...want, rejected: 0 })}`);
}

async function checkLatency(app: App, customer: string): Promise<string[][]> {
  const targets: [string, LoadTarget][] = [];
  for (const [name, body] of [
    [`metered (${METERED}, counters populated)`, { customerId: customer, feature: METERED, quantity: 1 }],
    [`not metered (${UNMETERED})`, { customerId: customer, feature: UNMETERED }],
  ] as const) {
    const probe = await call(app, 'POST', '/v1/check', body);
    if (!probe.allowed || probe.code !== 'OK') throw new Error(`the check does not decide OK: ${JSON.stringify(probe)}`);
    if (body.feature === METERED && !(probe.remaining < 100_000)) throw new Error(`the metered check does not see the usage: ${JSON.stringify(probe)}`);
    targets.push([name, { url: app.url, path: '/v1/check', body: JSON.stringify(body), headers: app.auth }]);
  }
  // Warm-up of both, closed and open loop, discarded: whichever ran first was slower (the JIT, and the
  // collection of the ingestion's garbage in both processes), whatever the feature.
  for (const [, target] of targets) {
    await maxLoad(target, CONNECTIONS, 3);
    await openLoop(target, 1000, 3);
  }
  const rows: string[][] = [];
  for (const [name, target] of targets) {
    const max = await maxLoad(target, CONNECTIONS, HTTP_SECONDS);
    const half = await openLoop(target, Math.round(max.requests.average / 2), HTTP_SECONDS);
    rows.push([`POST /v1/check, ${name}`, fmt(max.requests.average), fmt(max.latency.p99), fmt(half.rate), fmt(half.p50, 2), fmt(half.p99, 2), fmt(half.p999, 2)]);
  }
  return rows;
}

interface EmbeddedResult {
  readonly ingest: string[][];
  readonly checks: string[][];
}

async function embedded(): Promise<EmbeddedResult> {
  const { dir, cleanup } = benchDir('metering');
  try {
    const app = await startApp(dir, {});
    let customers: Customers;
    let events: UsageEventV1[];
    let fresh: Awaited<ReturnType<typeof post>>;
    let again: Awaited<ReturnType<typeof post>>;
    let checks: string[][];
    try {
      customers = await seed(app, 'cust');
      events = usageEvents('urn:bench:http', [...customers.entitlementOf.keys()], new Date().toISOString());
      const bodies = batchesOf(events, BATCH).map((b) => JSON.stringify({ events: b }));
      process.stderr.write(`embedded: ${fmt(CUSTOMERS)} customers seeded; posting ${fmt(N)} events\n`);
      fresh = await post(app, bodies);
      expectTotals('new events', fresh, { accepted: N, duplicates: 0 });
      again = await post(app, bodies);
      expectTotals('the same events again', again, { accepted: 0, duplicates: N });
      checks = PARTS.includes('checks') ? (process.stderr.write('embedded: checks with usage on\n'), await checkLatency(app, 'cust-7')) : [];
    } finally {
      await app.stop();
    }

    const path = join(dir, 'metering.db');
    const receivedAt = new Date().toISOString();
    // Baseline 1: the ledger's driver path (TypeORM over better-sqlite3), multi-row statements, one transaction per batch.
    const ds = await openReadModels({ kind: 'sqlite', path }, METERING_SCHEMA);
    const like = async (name: string) => {
      await ds.query(`CREATE TABLE ${name} AS SELECT * FROM mt_usage_events WHERE 0`);
      await ds.query(`CREATE UNIQUE INDEX ${name}_pk ON ${name} (source, id)`);
      await ds.query(`CREATE UNIQUE INDEX ${name}_position ON ${name} (position)`);
      await ds.query(`CREATE INDEX ${name}_customer_time ON ${name} (customer_id, event_time)`);
    };
    await like('raw_usage');
    let position = 0;
    let t = performance.now();
    for (const b of batchesOf(events, BATCH)) {
      await ds.transaction(async (tx) => {
        for (const chunk of batchesOf(b, RAW_ROWS_PER_STATEMENT)) {
          const params = chunk.flatMap((e) => rowOf(e, customers, ++position, receivedAt));
          await tx.query(`INSERT INTO raw_usage VALUES ${chunk.map(() => `(${COLUMNS.map(() => '?').join(', ')})`).join(', ')}`, params);
        }
      });
    }
    const rawTypeormS = (performance.now() - t) / 1000;

    // Baseline 2: better-sqlite3 directly, one prepared statement reused, one transaction per batch.
    await like('raw_usage_prepared');
    await ds.destroy();
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const insert = db.prepare(`INSERT INTO raw_usage_prepared VALUES (${COLUMNS.map(() => '?').join(', ')})`);
    const insertBatch = db.transaction((b: readonly UsageEventV1[]) => {
      for (const e of b) insert.run(...rowOf(e, customers, ++position, receivedAt));
    });
    t = performance.now();
    for (const b of batchesOf(events, BATCH)) insertBatch(b);
    const rawPreparedS = (performance.now() - t) / 1000;
    db.close();

    // UsageLedger called in this process (no HTTP, no process boundary), on the same file, its own customers.
    const inProcessS = await inProcess(path);

    const raw = rate(N, rawTypeormS);
    return {
      ingest: [
        [`HTTP POST /v1/usage, new events (${CLIENTS} clients, batches of ${fmt(BATCH)})`, fmt(rate(N, fresh.seconds)), fmt(fresh.seconds, 2), vs(rate(N, fresh.seconds), raw)],
        ['HTTP POST /v1/usage, the same events again (all duplicates)', fmt(rate(N, again.seconds)), fmt(again.seconds, 2), vs(rate(N, again.seconds), raw)],
        ['UsageLedger.ingest in process, new events (no HTTP)', fmt(rate(N, inProcessS.fresh)), fmt(inProcessS.fresh, 2), vs(rate(N, inProcessS.fresh), raw)],
        ['UsageLedger.ingest in process, all duplicates', fmt(rate(N, inProcessS.again)), fmt(inProcessS.again, 2), vs(rate(N, inProcessS.again), raw)],
        [`raw multi-row INSERT, ${RAW_ROWS_PER_STATEMENT} rows a statement through TypeORM (the ledger's driver path) — baseline`, fmt(raw), fmt(rawTypeormS, 2), '100 %'],
        ['raw INSERT, one prepared better-sqlite3 statement reused', fmt(rate(N, rawPreparedS)), fmt(rawPreparedS, 2), vs(rate(N, rawPreparedS), raw)],
      ],
      checks,
    };
  } finally {
    cleanup();
  }
}

async function inProcess(path: string): Promise<{ fresh: number; again: number }> {
  const ds = await openReadModels({ kind: 'sqlite', path }, METERING_SCHEMA);
  const events = SqliteEventStore.open({ path: join(path, '..', 'bench-events.db') });
  try {
    const registry = new MeterRegistry();
    const validFrom = new Date(Date.now() - 86_400_000).toISOString();
    const customers = Array.from({ length: CUSTOMERS }, (_, c) => `ip-${c}`);
    for (const c of customers) {
      registry.apply({ entitlementId: `e-${c}`, customerId: c, validFrom, status: 'active', revision: 0, features: { [METERED]: { meter: { period: 'month', cap: 1e12, capType: 'soft' } } } } as unknown as EntitlementV1);
    }
    const config: MeteringConfig = readConfig(meteringConfigSpec, { METERING_USAGE_GROUP: 'bench', METERING_USAGE_CONCURRENCY: '1' });
    const ledger = new UsageLedger(ds, config, registry, new UsageCounters(registry), new SystemClock() as Clock, new UsageAlerts(ds, new InProcessIntegrationEvents(events)), { label: 'bench', products: [], addOns: [] });
    const batches = batchesOf(usageEvents('urn:bench:in-process', customers, new Date().toISOString()), BATCH);
    const timed = async (want: 'accepted' | 'duplicate') => {
      const t = performance.now();
      for (const b of batches) {
        const results = await ledger.ingest(b);
        if (results.some((r) => r.status !== want)) throw new Error(`in process: expected every event ${want}, got ${JSON.stringify(results.find((r) => r.status !== want))}`);
      }
      return (performance.now() - t) / 1000;
    };
    return { fresh: await timed('accepted'), again: await timed('duplicate') };
  } finally {
    await ds.destroy();
    await events.close();
  }
}

async function kafkaIntoPostgres(): Promise<string[][]> {
  const { dir, cleanup } = benchDir('metering-kafka');
  const broker = await startKafka({ partitions: 6, log: (l) => process.stderr.write(`${l}\n`) });
  const pg = await startPostgres({ durable: true });
  let app: App | null = null;
  try {
    const url = await createDatabase(pg.url, `metering_bench_${randomUUID().slice(0, 8)}`);
    const group = `metering-bench-${randomUUID().slice(0, 8)}`;
    app = await startApp(dir, { BUS: 'kafka', KAFKA_BROKERS: broker.brokers.join(','), KAFKA_TOPIC_PARTITIONS: '6', METERING_DB: 'postgres', METERING_DB_URL: url, METERING_USAGE_GROUP: group });
    const customers = await seed(app, 'kc');
    const events = usageEvents('urn:bench:kafka', [...customers.entitlementOf.keys()], new Date().toISOString());
    const db = new Client({ connectionString: url });
    await db.connect();
    const kafka = new Kafka({ clientId: 'bench-metering', brokers: broker.brokers, logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const admin = kafka.admin();
    await admin.connect();
    try {
      const values = events.map((e) => ({ key: e.subject, value: Buffer.from(JSON.stringify(e)) }));
      // Chunks of 2,000 sent 4 at a time (acks=all): the producer should not be what is measured.
      const produce = async (round: string) => {
        const chunks = batchesOf(values, 2000);
        let next = 0;
        await Promise.all(
          Array.from({ length: 4 }, async () => {
            while (next < chunks.length) {
              const c = next++;
              await producer.send({ topic: TOPICS.usage, acks: -1, messages: chunks[c]!.map((m, k) => ({ ...m, headers: { ce_id: `${round}-${c}-${k}` } })) });
            }
          }),
        );
        return performance.now();
      };
      // What the counters hold (committed with the events, in the same transaction).
      const countedNow = async () => Number((await db.query<{ n: string | null }>('SELECT SUM(events) AS n FROM mt_counters')).rows[0]!.n ?? 0);
      process.stderr.write(`kafka: ${fmt(CUSTOMERS)} customers seeded; producing ${fmt(N)} events\n`);
      let t = performance.now();
      const produceS = ((await produce('new')) - t) / 1000;
      await until('every event to be counted', async () => (await countedNow()) >= N);
      const freshS = (performance.now() - t) / 1000;
      process.stderr.write(`kafka: ${fmt(N)} new events counted in ${fmt(freshS, 2)} s\n`);
      const counted = await db.query<{ n: string; total: string }>(`SELECT COUNT(*) AS n, SUM(quantity) AS total FROM mt_usage_events WHERE source = 'urn:bench:kafka'`);
      const want = events.reduce((s, e) => s + e.data.quantity, 0);
      const counters = await db.query<{ total: string }>(`SELECT SUM(value) AS total FROM mt_counters`);
      if (Number(counted.rows[0]!.n) !== N || Number(counted.rows[0]!.total) !== want || Number(counters.rows[0]!.total) !== want) {
        throw new Error(`kafka: counted ${JSON.stringify(counted.rows[0])}, counters ${counters.rows[0]!.total}, expected ${N} events of ${want}`);
      }

      // The same events again, as a client retry would send them (new message ids): all duplicates.
      t = performance.now();
      await produce('again');
      const end = await admin.fetchTopicOffsets(TOPICS.usage);
      await until('the group to read to the end', async () => {
        const [committed] = await admin.fetchOffsets({ groupId: group, topics: [TOPICS.usage] });
        return end.every((p) => committed!.partitions.find((c) => c.partition === p.partition)?.offset === p.high);
      });
      const againS = (performance.now() - t) / 1000;
      const after = await db.query<{ total: string }>('SELECT SUM(value) AS total FROM mt_counters');
      if ((await countedNow()) !== N || Number(after.rows[0]!.total) !== want) throw new Error('kafka: the duplicates changed the counters');
      await app.stop();
      app = null;

      // Baseline: the same rows, multi-row INSERT into a table of the same columns, keys and indexes, one transaction per batch.
      await db.query('CREATE TABLE raw_usage (LIKE mt_usage_events INCLUDING ALL)');
      const receivedAt = new Date().toISOString();
      let position = 0;
      t = performance.now();
      for (const b of batchesOf(events, BATCH)) {
        await db.query('BEGIN');
        for (const chunk of batchesOf(b, RAW_ROWS_PER_STATEMENT)) {
          const params = chunk.flatMap((e) => rowOf(e, customers, ++position, receivedAt));
          await db.query(`INSERT INTO raw_usage VALUES ${chunk.map((_, r) => `(${COLUMNS.map((_, c) => `$${r * COLUMNS.length + c + 1}`).join(', ')})`).join(', ')}`, params);
        }
        await db.query('COMMIT');
      }
      const rawS = (performance.now() - t) / 1000;
      const raw = rate(N, rawS);
      return [
        [`Kafka ${TOPICS.usage} → PostgreSQL, new events (6 partitions, ${fmt(CUSTOMERS)} customer keys)`, fmt(rate(N, freshS)), fmt(freshS, 2), vs(rate(N, freshS), raw), `produced in ${fmt(produceS, 1)} s, while consuming`],
        ['Kafka → PostgreSQL, the same events again (all duplicates)', fmt(rate(N, againS)), fmt(againS, 2), vs(rate(N, againS), raw), 'until the group committed the end offsets'],
        [`raw multi-row INSERT into PostgreSQL, ${RAW_ROWS_PER_STATEMENT} rows a statement — baseline`, fmt(raw), fmt(rawS, 2), '100 %', 'one connection, one transaction per 1,000'],
      ];
    } finally {
      await producer.disconnect();
      await admin.disconnect();
      await db.end();
    }
  } finally {
    if (app) await app.stop();
    await pg.stop();
    await broker.stop();
    cleanup();
  }
}

async function main(): Promise<void> {
  process.stdout.write(`# bench:metering — ${fmt(N)} usage events across ${fmt(CUSTOMERS)} customers, ${machine()}, ${new Date().toISOString().slice(0, 10)}\n\n`);
  // Other work on the machine shares the cores: the load average says how quiet the run was.
  const load = () => loadavg().map((l) => fmt(l, 1)).join(' / ');
  process.stdout.write(`load average at start (1 / 5 / 15 min): ${load()}\n\n`);
  if (PARTS.includes('embedded')) {
    const e = await embedded();
    process.stdout.write(`Embedded process (HTTP → SQLite, WAL, synchronous=NORMAL):\n\n${table(['path', 'events/s', 'seconds', 'vs raw insert'], e.ingest)}\n\n`);
    if (e.checks.length > 0) process.stdout.write(`Checks with usage on (embedded process, autocannon ${CONNECTIONS} connections, ${HTTP_SECONDS} s; open loop at half the maximum rate):\n\n`);
    if (e.checks.length > 0) process.stdout.write(`${table(['request', 'max req/s', 'p99 ms at max', 'half rate req/s', 'p50 ms at half', 'p99 ms at half', 'p99.9 ms at half'], e.checks)}\n\n`);
  }
  if (PARTS.includes('kafka')) {
    const k = await kafkaIntoPostgres();
    process.stdout.write(`Distributed ingestion (Kafka single node KRaft, PostgreSQL fsync on, same machine):\n\n${table(['path', 'events/s', 'seconds', 'vs raw insert', 'note'], k)}\n`);
  }
  process.stdout.write(`\nload average at the end: ${load()}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:metering failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
