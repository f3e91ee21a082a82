/**
 * npm run bench:headline — the seed's headline as a benchmark: licenses for
 * 50,000 orders in minutes instead of days. BENCH_ORDERS (default 50,000)
 * one-line ERP orders, each for a customer of its own, are published on
 * erp.orders.v1 and taken, each mode on a Kafka broker of its own, through
 *   distributed  npm run start:distributed: ledger, projector (read models in
 *                PostgreSQL), enforcement, metering and audit as separate
 *                processes; Kafka and PostgreSQL started here by the test harness;
 *   embedded     the embedded process with BUS=kafka.
 * Milestones, each measured from the first publish:
 *   published    every order acknowledged by Kafka (acks=all);
 *   fulfilled    an OrderFulfilled for every order in the event store (read
 *                from the SQLite file: what is there is durable);
 *   enforceable  the enforcement view at the position of the last
 *                OrderFulfilled (its /health); then BENCH_CHECK_SAMPLE random
 *                customers are checked through POST /v1/check, all allowed;
 *   rows         the read models at that position (the projector's checkpoint,
 *                which commits with its rows);
 *   tokens       a license token for every customer through POST /v1/tokens
 *                (BENCH_TOKEN_CONNECTIONS keep-alive connections), each one
 *                checked: signed for that customer, carrying its entitlement.
 * The requests use a bench-only API key (role `service`) made with the first
 * start's admin key; the per-principal write limit is off
 * (RATE_LIMIT_WRITES_PER_SECOND=0), or one key could not ask for 50,000 tokens.
 *
 * BENCH_MODES (default "distributed,embedded"); BENCH_SERVICE_NODE_ARGS, e.g.
 * "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles every service process.
 * Everything started here (Kafka, PostgreSQL, the services) is stopped and its
 * data removed at the end, on failure and on Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { TOPICS, type ErpOrderV1 } from '@el/contracts';
import { createDatabase, freePort, repoRoot, startKafka, startPostgres, type KafkaBroker, type PostgresServer } from '@el/testing';
import { benchDir, fmt, machine, percentile, table } from './bench-util';
import { pooledRequests } from './http-load';
import { cpuSnapshot, machineBusySeconds, tree, type ProcInfo } from './process-cpu';

const ORDERS = Number(process.env['BENCH_ORDERS'] ?? 50_000);
const MODES = (process.env['BENCH_MODES'] ?? 'distributed,embedded').split(',').map((m) => m.trim()).filter(Boolean);
const CHECK_SAMPLE = Number(process.env['BENCH_CHECK_SAMPLE'] ?? 500);
const TOKEN_CONNECTIONS = Number(process.env['BENCH_TOKEN_CONNECTIONS'] ?? 64);
const SERVICE_NODE_ARGS = process.env['BENCH_SERVICE_NODE_ARGS'] ?? '';
const TIMEOUT_MS = Number(process.env['BENCH_TIMEOUT_SECONDS'] ?? 600) * 1000;
const ROOT = repoRoot(__dirname);
const RUN = Date.now().toString(36);
const say = (line: string) => process.stderr.write(`[headline] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------
// Cleanup: everything started is registered here and undone in reverse order —
// at the end of a mode, when the bench fails, and on Ctrl-C / SIGTERM. Child
// processes still alive when this process exits anyway are killed.
const cleanups: { name: string; run: () => Promise<void> | void }[] = [];
const children = new Set<ChildProcess>();
function onCleanup(name: string, run: () => Promise<void> | void): () => Promise<void> {
  const entry = { name, run };
  cleanups.push(entry);
  return async () => {
    const i = cleanups.indexOf(entry);
    if (i < 0) return;
    cleanups.splice(i, 1);
    await entry.run();
  };
}
async function cleanAll(): Promise<void> {
  while (cleanups.length > 0) {
    const c = cleanups.pop()!;
    try {
      await c.run();
    } catch (err) {
      say(`cleanup of ${c.name}: ${(err as Error).message}`);
    }
  }
}
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    say(`${signal}: stopping everything this bench started`);
    void cleanAll().finally(() => process.exit(130));
  });
}
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Stops a child: SIGTERM, SIGKILL after `graceMs`. */
function stopChild(child: ChildProcess, graceMs = 20_000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Waits for a process to be ready; one that never gets there is stopped before the error goes on. */
async function readyOrStopped(stop: () => Promise<unknown>, ready: Promise<void>): Promise<void> {
  try {
    await ready;
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Spawns a node process whose output is kept (the last 20,000 characters) for the error when it fails. */
function spawnNode(args: string[], env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 40_000) out = out.slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { child, output: () => out };
}

async function waitFor(what: string, child: { child: ChildProcess; output: () => string }, done: () => boolean | Promise<boolean>, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await done()) return;
    if (child.child.exitCode !== null || child.child.signalCode !== null) throw new Error(`${what}: the process exited (${child.child.exitCode ?? child.child.signalCode}):\n${child.output().slice(-4000)}`);
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs / 1000} s:\n${child.output().slice(-4000)}`);
    await sleep(200);
  }
}

// ---------------------------------------------------------------------------
// The system under test, in either mode.
interface Stack {
  readonly name: string;
  /** The ledger's public API (orders, tokens). */
  readonly ledger: string;
  /** Where POST /v1/check is answered. */
  readonly enforcement: string;
  /** The /health that reports the enforcement view's position. */
  readonly enforcementHealth: string;
  /** The /health that reports the read-model projection's position. */
  readonly projectorHealth: string;
  readonly brokers: readonly string[];
  readonly eventsDb: string;
  readonly dataDir: string;
  readonly output: () => string;
  readonly child: ChildProcess;
  readonly note: string;
  /** The processes whose CPU time is reported, by component. */
  readonly components: Record<string, (all: readonly ProcInfo[]) => readonly ProcInfo[]>;
}

const self = (all: readonly ProcInfo[]) => all.filter((p) => p.pid === process.pid);
const byPid = (pid: number | undefined) => (all: readonly ProcInfo[]) => (pid === undefined ? [] : tree(all, pid));

/** The PostgreSQL server's processes: the postmaster is the parent of any backend. */
async function postgresPid(url: string): Promise<number | undefined> {
  const { Client } = await import('pg');
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const backend = Number((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
    const stat = readFileSync(`/proc/${backend}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  } finally {
    await client.end();
  }
}

const SERVICE_ENV = {
  LOG_LEVEL: 'warn',
  // One bench key asks for 50,000 tokens: the per-principal write limit (default 200/s) is off.
  RATE_LIMIT_WRITES_PER_SECOND: '0',
};

/**
 * Starts something on ports picked free just before: another process on this
 * shared machine may take one in between, so a start that fails on a port in
 * use is tried again on new ones (twice at most).
 */
async function onFreePorts<T>(what: string, start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= 3 || !/already in use|EADDRINUSE/.test((err as Error).message)) throw err;
      say(`${what}: a port was taken meanwhile; starting again on others`);
    }
  }
}

async function kafkaFor(mode: string): Promise<KafkaBroker> {
  say(`${mode}: starting Kafka`);
  const broker = await startKafka({ partitions: 6, log: say });
  if (broker.external) throw new Error('KAFKA_BROKERS is set: the headline needs a broker of its own per mode (unset it)');
  onCleanup(`${mode} Kafka`, () => broker.stop());
  return broker;
}

async function distributed(): Promise<Stack> {
  const broker = await kafkaFor('distributed');
  say('distributed: starting PostgreSQL (durable: fsync on)');
  const pg: PostgresServer = await startPostgres({ durable: true });
  onCleanup('distributed PostgreSQL', () => pg.stop());
  const { dir, cleanup } = benchDir('headline-distributed');
  onCleanup('distributed data', cleanup);
  const databases = { READ_DB_URL: await createDatabase(pg.url, 'ledger'), METERING_DB_URL: await createDatabase(pg.url, 'metering'), AUDIT_DB_URL: await createDatabase(pg.url, 'audit') };
  say('distributed: starting the services (npm run start:distributed)');
  const { launcher, ports } = await onFreePorts('npm run start:distributed', async () => {
    const ports = { ledger: await freePort(), projector: await freePort(), enforcement: await freePort(), metering: await freePort(), audit: await freePort(), gateway: await freePort() };
    const launcher = spawnNode([join(ROOT, 'dist', 'tools', 'distributed', 'src', 'start-distributed.js')], {
      ...SERVICE_ENV,
      ...databases,
      DATA_DIR: dir,
      KAFKA_BROKERS: broker.brokers.join(','),
      LEDGER_PORT: String(ports.ledger),
      PROJECTOR_PORT: String(ports.projector),
      ENFORCEMENT_PORT: String(ports.enforcement),
      METERING_PORT: String(ports.metering),
      AUDIT_PORT: String(ports.audit),
      GATEWAY_PORT: String(ports.gateway),
      SERVICE_NODE_ARGS,
    });
    // The launcher stops its services on SIGTERM (then exits); registered before Kafka and PostgreSQL are stopped.
    const stop = onCleanup('distributed services', () => stopChild(launcher.child, 60_000));
    await readyOrStopped(stop, waitFor('npm run start:distributed', launcher, () => launcher.output().includes('Entitlement Ledger (distributed) is up')));
    return { launcher, ports };
  });
  const url = (port: number) => `http://127.0.0.1:${port}`;
  const launcherPid = launcher.child.pid!;
  const service = (name: string) => (all: readonly ProcInfo[]) => tree(all, launcherPid).filter((p) => p.cmdline.includes(`dist/apps/${name}/main.js`));
  const postmaster = await postgresPid(pg.url);
  return {
    name: 'distributed',
    components: {
      ledger: service('ledger'),
      projector: service('projector'),
      enforcement: service('enforcement'),
      metering: service('metering'),
      audit: service('audit'),
      'launcher + gateway': (all) => all.filter((p) => p.pid === launcherPid),
      Kafka: byPid(broker.pid),
      PostgreSQL: byPid(postmaster),
      'this bench (load generator, watcher)': self,
    },
    ledger: url(ports.ledger),
    enforcement: url(ports.enforcement),
    enforcementHealth: `${url(ports.enforcement)}/health`,
    projectorHealth: `${url(ports.projector)}/health`,
    brokers: broker.brokers,
    eventsDb: join(dir, 'events.db'),
    dataDir: dir,
    output: launcher.output,
    child: launcher.child,
    note: 'npm run start:distributed: ledger, projector (PostgreSQL read models), enforcement, metering, audit — 5 processes; SQLite event store (synchronous=FULL); Kafka and PostgreSQL (fsync on) on the same machine',
  };
}

async function embedded(): Promise<Stack> {
  const broker = await kafkaFor('embedded');
  const { dir, cleanup } = benchDir('headline-embedded');
  onCleanup('embedded data', cleanup);
  say('embedded: starting the embedded process (BUS=kafka)');
  const { app, port } = await onFreePorts('the embedded process', async () => {
    const port = await freePort();
    const app = spawnNode([...SERVICE_NODE_ARGS.split(' ').filter(Boolean), join(ROOT, 'dist', 'apps', 'embedded', 'src', 'main.js')], {
      ...SERVICE_ENV,
      DATA_DIR: dir,
      PORT: String(port),
      BUS: 'kafka',
      KAFKA_BROKERS: broker.brokers.join(','),
      KAFKA_TOPIC_PARTITIONS: '6',
    });
    const stop = onCleanup('embedded process', () => stopChild(app.child));
    await readyOrStopped(stop, waitFor('the embedded process', app, () => app.output().includes('is up')));
    return { app, port };
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    name: 'embedded',
    components: {
      'embedded process': byPid(app.child.pid),
      Kafka: byPid(broker.pid),
      'this bench (load generator, watcher)': self,
    },
    ledger: url,
    enforcement: url,
    enforcementHealth: `${url}/health`,
    projectorHealth: `${url}/health`,
    brokers: broker.brokers,
    eventsDb: join(dir, 'events.db'),
    dataDir: dir,
    output: app.output,
    child: app.child,
    note: 'one process (SQLite event store with synchronous=FULL, SQLite read models) with BUS=kafka; Kafka on the same machine',
  };
}

// ---------------------------------------------------------------------------
// The run.
async function http(url: string, init: RequestInit & { auth: Record<string, string> }): Promise<any> {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...init.auth, ...(init.headers as Record<string, string> | undefined) } });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : null;
}

async function component(healthUrl: string, name: string): Promise<Record<string, any> | null> {
  try {
    const res = await fetch(healthUrl);
    return ((await res.json()) as { components: Record<string, Record<string, any>> }).components[name] ?? null;
  } catch {
    return null;
  }
}

/**
 * Counts the OrderFulfilled events in the event store as they commit, from a
 * read-only connection: positions are dense and in commit order, so each
 * look reads only what was appended since the last one.
 */
function fulfilmentCounter(path: string) {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  const head = db.prepare('SELECT MAX(position) FROM events').pluck();
  const since = db.prepare("SELECT COUNT(*) AS n, MAX(position) AS last, SUM(type = 'OrderRejected') AS rejected FROM events WHERE position > ? AND position <= ? AND type IN ('OrderFulfilled', 'OrderRejected')");
  let read = 0;
  let fulfilled = 0;
  let rejected = 0;
  let lastFulfilled = 0;
  return {
    look(): { fulfilled: number; rejected: number; lastFulfilled: number } {
      const to = (head.get() as number | null) ?? 0;
      if (to > read) {
        const r = since.get(read, to) as { n: number; last: number | null; rejected: number | null };
        fulfilled += r.n - (r.rejected ?? 0);
        rejected += r.rejected ?? 0;
        if (r.n > 0) lastFulfilled = r.last!;
        read = to;
      }
      return { fulfilled, rejected, lastFulfilled };
    },
    close: () => void db.close(),
  };
}

interface Milestone {
  readonly name: string;
  readonly at: number;
  readonly note: string;
}

async function headline(stack: Stack): Promise<{ rows: string[][]; cpuRows: string[][]; total: number; orderSeconds: number; tokenRate: number }> {
  const admin = { authorization: `Bearer ${readFileSync(join(stack.dataDir, 'admin-api-key'), 'utf8').trim()}` };
  const created = await http(`${stack.ledger}/v1/api-keys`, { method: 'POST', auth: admin, body: JSON.stringify({ name: `bench:headline ${RUN}`, role: 'service' }) });
  const auth = { authorization: `Bearer ${created.key as string}` };
  // The enforcement service learns keys from ledger.api-keys.v1 (distributed) or the store (embedded).
  const keyKnown = async () => (await fetch(`${stack.enforcement}/v1/check`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ customerId: 'nobody', feature: 'reports.export' }) })).status === 200;
  await waitFor('the enforcement service to accept the bench key', { child: stack.child, output: stack.output }, keyKnown, 60_000);

  const customer = (i: number) => `hl-${RUN}-c${i}`;
  const order = (i: number): ErpOrderV1 => ({ orderId: `HL-${RUN}-${i}`, customerId: customer(i), lines: [{ lineId: '1', sku: 'ANL-PRO', quantity: 5, action: 'new' }] });
  const kafka = new Kafka({ clientId: 'bench-headline', brokers: [...stack.brokers], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  onCleanup(`${stack.name} producer`, () => producer.disconnect());
  const counter = fulfilmentCounter(stack.eventsDb);
  onCleanup(`${stack.name} store reader`, () => counter.close());

  say(`${stack.name}: publishing ${fmt(ORDERS)} orders`);
  const milestones: Milestone[] = [];
  const cpu = { before: snapshot(stack), ordersDone: {} as Snapshot, tokensStart: {} as Snapshot, tokensDone: {} as Snapshot };
  const t0 = performance.now();
  const since = () => (performance.now() - t0) / 1000;
  // Batches of 500, up to 4 in flight (the producer keeps each partition in order).
  const publishing = (async () => {
    const BATCH = 500;
    const inFlight = new Set<Promise<unknown>>();
    for (let i = 0; i < ORDERS; i += BATCH) {
      const messages = Array.from({ length: Math.min(BATCH, ORDERS - i) }, (_, k) => {
        const o = order(i + k);
        return { key: o.orderId, value: JSON.stringify(o) };
      });
      const p = producer.send({ topic: TOPICS.erpOrders, acks: -1, messages }).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= 4) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    milestones.push({ name: 'published', at: since(), note: 'every order acknowledged by Kafka (acks=all)' });
  })();

  // Watch the store, the view and the read models until each has every order.
  let head = 0;
  let enforceableAt: number | null = null;
  let rowsAt: number | null = null;
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    if (stack.child.exitCode !== null || stack.child.signalCode !== null) throw new Error(`${stack.name}: the system under test exited:\n${stack.output().slice(-4000)}`);
    if (Date.now() > deadline) throw new Error(`${stack.name}: not done after ${TIMEOUT_MS / 1000} s (fulfilled ${counter.look().fulfilled}, view ${enforceableAt}, rows ${rowsAt})`);
    if (!head) {
      const seen = counter.look();
      if (seen.rejected > 0) throw new Error(`${stack.name}: ${seen.rejected} orders were rejected (see GET /v1/orders/:id)`);
      if (seen.fulfilled >= ORDERS) {
        head = seen.lastFulfilled;
        milestones.push({ name: 'fulfilled', at: since(), note: `OrderFulfilled for every order in the event store (the last at position ${fmt(head)})` });
      }
    }
    if (head) {
      const [view, projector] = await Promise.all([
        enforceableAt === null ? component(stack.enforcementHealth, 'enforcementView') : null,
        rowsAt === null ? component(stack.projectorHealth, 'projector') : null,
      ]);
      if (view && view['position'] >= head) enforceableAt = since();
      if (projector && projector['position'] >= head) rowsAt = since();
      if (enforceableAt !== null && rowsAt !== null) {
        cpu.ordersDone = snapshot(stack);
        break;
      }
    }
    await sleep(head ? 50 : 100);
  }
  await publishing;

  // Enforceable: a random sample of customers, checked at the head.
  const sample = Array.from({ length: Math.min(CHECK_SAMPLE, ORDERS) }, () => Math.floor(Math.random() * ORDERS));
  let allowed = 0;
  for (const i of sample) {
    const d = await http(`${stack.enforcement}/v1/check`, { method: 'POST', auth, body: JSON.stringify({ customerId: customer(i), feature: 'reports.export', minPosition: head }) });
    if (d.allowed === true && d.code === 'OK' && d.stale === false) allowed++;
    else throw new Error(`${stack.name}: the check of ${customer(i)} at position ${head} is not allowed: ${JSON.stringify(d)}`);
  }
  milestones.push({ name: 'enforceable', at: enforceableAt!, note: `enforcement view at position ${fmt(head)} (its /health); ${fmt(allowed)} of ${fmt(sample.length)} random /v1/check calls allowed` });
  milestones.push({ name: 'rows', at: rowsAt!, note: `read models at position ${fmt(head)} (the projector's checkpoint, committed with its rows)` });

  // A token for every customer through the public API.
  say(`${stack.name}: issuing ${fmt(ORDERS)} license tokens over ${TOKEN_CONNECTIONS} connections`);
  const tokensStart = since();
  cpu.tokensStart = snapshot(stack);
  const request = (i: number) => ({ path: '/v1/tokens', body: JSON.stringify({ customerId: customer(i) }), headers: auth });
  const issued = await pooledRequests(stack.ledger, ORDERS, TOKEN_CONNECTIONS, request, (i, a) => {
    if (a.status !== 201) throw new Error(`${stack.name}: POST /v1/tokens for ${customer(i)}: ${a.status} ${a.body.toString().slice(0, 500)}`);
    const token = (JSON.parse(a.body.toString()) as { token: string }).token;
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub: string; ents: { plan: string; status: string }[] };
    if (claims.sub !== customer(i) || claims.ents.length !== 1 || claims.ents[0]!.plan !== 'pro' || claims.ents[0]!.status !== 'active') {
      throw new Error(`${stack.name}: the token of ${customer(i)} does not carry its one active entitlement: ${JSON.stringify(claims)}`);
    }
  });
  cpu.tokensDone = snapshot(stack);
  const latencies = Array.from(issued.latencies).sort((a, b) => a - b);
  const tokenRate = ORDERS / issued.seconds;
  milestones.push({
    name: 'tokens',
    at: since(),
    note: `a token for every customer, each checked (subject, one active entitlement): ${fmt(issued.seconds, 1)} s for the tokens alone, ${fmt(tokenRate)}/s, p50 ${fmt(percentile(latencies, 50), 1)} ms, p99 ${fmt(percentile(latencies, 99), 1)} ms (started at ${fmt(tokensStart, 1)} s)`,
  });

  const labels: Record<string, string> = {
    published: 'orders published on erp.orders.v1',
    fulfilled: 'all fulfilled',
    enforceable: 'all enforceable',
    rows: 'all read-model rows present',
    tokens: 'a license token issued to every customer',
  };
  const order_ = ['published', 'fulfilled', 'enforceable', 'rows', 'tokens'];
  const rows = order_
    .map((n) => milestones.find((m) => m.name === n)!)
    .map((m) => [labels[m.name]!, fmt(m.at, 1), fmt(ORDERS / m.at), m.note]);
  const orderSeconds = Math.max(...milestones.filter((m) => ['fulfilled', 'enforceable', 'rows'].includes(m.name)).map((m) => m.at));
  const used = (from: Snapshot, to: Snapshot, name: string) => to[name]! - from[name]!;
  const cpuRows = Object.keys(cpu.before).map((name) => {
    const orders = used(cpu.before, cpu.ordersDone, name);
    const tokens = used(cpu.tokensStart, cpu.tokensDone, name);
    return [name, fmt(orders, 1), fmt((orders / ORDERS) * 1e6), fmt(tokens, 1), fmt((tokens / ORDERS) * 1e6)];
  });
  return { rows, cpuRows, total: milestones.find((m) => m.name === 'tokens')!.at, orderSeconds, tokenRate };
}

type Snapshot = Record<string, number>;
const OTHER = 'other work on this machine';

/** CPU seconds so far by component, and what the rest of the machine used (all cores busy minus ours). */
function snapshot(stack: Stack): Snapshot {
  const ours = cpuSnapshot(stack.components);
  const total = Object.values(ours).reduce((a, b) => a + b, 0);
  return { ...ours, [OTHER]: machineBusySeconds() - total };
}

async function main(): Promise<void> {
  for (const m of MODES) if (m !== 'distributed' && m !== 'embedded') throw new Error(`BENCH_MODES: unknown mode "${m}" (distributed, embedded)`);
  const os = await import('node:os');
  console.log(`# bench:headline — ${fmt(ORDERS)} one-line ERP orders for ${fmt(ORDERS)} customers, to a license token each\n`);
  console.log(`${machine()}; ${new Date().toISOString().slice(0, 10)}; load average at the start ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  for (const mode of MODES) {
    const stack = mode === 'distributed' ? await distributed() : await embedded();
    let r: Awaited<ReturnType<typeof headline>>;
    try {
      r = await headline(stack);
    } catch (err) {
      if (!interrupted) say(`${mode} failed; the last of its log:\n${stack.output().slice(-6000)}`);
      throw err;
    }
    console.log(`## ${mode}: ${stack.note}\n`);
    console.log(table(['milestone (from the first publish)', 'seconds', 'per second', 'note'], r.rows));
    const aims = [
      `whole headline ${fmt(r.total, 1)} s (aim ≤ 30 s: ${r.total <= 30 ? 'met' : 'not met'})`,
      `orders end to end ${fmt(ORDERS / r.orderSeconds)}/s (aim ≥ 3,500/s: ${ORDERS / r.orderSeconds >= 3500 ? 'met' : 'not met'})`,
      `tokens ${fmt(r.tokenRate)}/s (aim ≥ 5,000/s: ${r.tokenRate >= 5000 ? 'met' : 'not met'})`,
    ];
    console.log(`\nCPU time by process (orders: first publish → all enforceable and all rows; tokens: the token requests):\n`);
    console.log(table(['process', 'CPU s, orders', 'µs per order', 'CPU s, tokens', 'µs per token'], r.cpuRows));
    console.log(`\n${aims.join('; ')}; load average at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
    await cleanAll();
  }
}

main()
  .catch(async (err: unknown) => {
    if (interrupted) return new Promise<never>(() => undefined); // the signal handler cleans up and exits
    console.error(err);
    await cleanAll();
    process.exit(1);
  })
  .then(() => process.exit(0));
