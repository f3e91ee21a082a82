/**
 * npm run bench:store — SQLite event store throughput, durable (synchronous=FULL).
 *
 *  1. one writer, one event per commit, each awaited: the fsync-bound floor;
 *  2. concurrent writers processing orders the way the ledger does (three
 *     dependent appends, four events per order) — group commit at work;
 *  3. replay: readAll and subscribeAll over a log of BENCH_EVENTS events (default 1,000,000);
 *  4. peers, in the same run, with the same rows and the same durability (WAL,
 *     synchronous=FULL): @event-driven-io/emmett-sqlite and raw better-sqlite3,
 *     one writer and 64 concurrent writers, BENCH_ROUNDS (default 3)
 *     alternating rounds of BENCH_PEER_SECONDS (default 3) each, medians and
 *     ratios (tools/bench/src/store-peers.ts). BENCH_ONLY=peers runs only these.
 *
 * Events are real domain events (granted entitlements of the sample catalog),
 * so payload sizes are realistic.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { decideEntitlement, formatCatalogIssues, parseCatalog, type CommandMetadata, type PublishedCatalog } from '@el/domain';
import { SqliteEventStore, type EventToAppend, type FlushStats } from '@el/event-store';
import { benchDir, fmt, machine, percentile, ratio, table } from './bench-util';
import { versionOf } from './check-peers';
import { emmett, ours, raw, type PeerStore } from './store-peers';

const root = join(__dirname, '..', '..', '..', '..');
const parsed = parseCatalog(parse(readFileSync(join(root, 'catalog', 'sample-catalog.yaml'), 'utf8')));
if (!parsed.ok) throw new Error(`sample catalog invalid:\n${formatCatalogIssues(parsed.issues)}`);
const catalog: PublishedCatalog = { version: 1, hash: 'bench', catalog: parsed.catalog };
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const WRITER = (process.env['BENCH_WRITER'] ?? 'inline') as 'inline' | 'worker';
const REPLAY_EVENTS = Number(process.env['BENCH_EVENTS'] ?? 1_000_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const PEER_SECONDS = Number(process.env['BENCH_PEER_SECONDS'] ?? 3);
const ONLY = process.env['BENCH_ONLY'];
const EMMETT_VERSION = versionOf('@event-driven-io/emmett-sqlite');

function meta(): CommandMetadata {
  return { now: new Date().toISOString(), correlationId: randomUUID(), causationId: randomUUID(), actor: { type: 'erp', id: 'bench' }, source: 'erp' };
}

function grantedEvents(entitlementId: string, customerId: string): EventToAppend[] {
  const m = meta();
  const events = decideEntitlement(
    { type: 'GrantEntitlement', data: { entitlementId, customerId, catalog, sku: 'ANL-PRO', quantity: 5, origin: { kind: 'order', orderId: entitlementId, lineId: '1' } }, metadata: m },
    { status: 'none' },
  );
  return [
    ...events.map((e) => ({ id: randomUUID(), type: e.type, data: e.data, metadata: e.metadata as unknown as Record<string, unknown> })),
    { id: randomUUID(), type: 'SeatAssigned', data: { entitlementId, userId: 'u-1' }, metadata: m as unknown as Record<string, unknown> },
  ];
}

const ev = (type: string, data: unknown): EventToAppend => ({ id: randomUUID(), type, data, metadata: meta() as unknown as Record<string, unknown> });

async function singleWriter(): Promise<string[]> {
  const { dir, cleanup } = benchDir('single');
  const store = SqliteEventStore.open({ path: join(dir, 'events.db'), writer: WRITER });
  const latencies: number[] = [];
  const deadline = performance.now() + SECONDS * 1000;
  let n = 0;
  while (performance.now() < deadline) {
    const t = performance.now();
    await store.append(`s-${n % 100}`, [ev('Ping', { n })]);
    latencies.push(performance.now() - t);
    n += 1;
  }
  const elapsed = latencies.reduce((a, b) => a + b, 0) / 1000;
  await store.close();
  cleanup();
  latencies.sort((a, b) => a - b);
  return ['1 writer, 1 event/commit', '1', fmt(n / elapsed), fmt(n / elapsed), '1.0', fmt(percentile(latencies, 50), 2), fmt(percentile(latencies, 99), 2)];
}

/** An order as one append of four events: what group commit can do when an order is one write. */
async function singleAppendOrders(writers: number): Promise<string[]> {
  const { dir, cleanup } = benchDir(`one-append-${writers}`);
  const flushes: FlushStats[] = [];
  const store = SqliteEventStore.open({ path: join(dir, 'events.db'), writer: WRITER, onFlush: (f) => flushes.push(f) });
  const latencies: number[] = [];
  let orders = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; performance.now() < deadline; i++) {
        const t = performance.now();
        const id = `e-${w}-${i}`;
        await store.append(`entitlement-${id}`, [ev('OrderReceived', { orderId: id }), ...grantedEvents(id, `c-${w}`), ev('OrderFulfilled', { orderId: id })], { expectedRevision: 'no_stream' });
        latencies.push(performance.now() - t);
        orders += 1;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  await store.close();
  cleanup();
  latencies.sort((a, b) => a - b);
  const appends = flushes.reduce((n, f) => n + f.appends, 0);
  return [`${writers} writers, orders as 1 append of 4 events`, String(writers), fmt(orders / elapsed), fmt((orders * 4) / elapsed), fmt(appends / flushes.length, 1), fmt(percentile(latencies, 50), 2), fmt(percentile(latencies, 99), 2)];
}

async function concurrentOrders(writers: number): Promise<string[]> {
  const { dir, cleanup } = benchDir(`orders-${writers}`);
  const flushes: FlushStats[] = [];
  const store = SqliteEventStore.open({ path: join(dir, 'events.db'), writer: WRITER, onFlush: (f) => flushes.push(f) });
  const latencies: number[] = [];
  let orders = 0;
  let events = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      let i = 0;
      while (performance.now() < deadline) {
        const t = performance.now();
        const orderId = `o-${w}-${i}`;
        const entitlementId = `e-${w}-${i}`;
        await store.append(`order-${orderId}`, [ev('OrderReceived', { orderId, customerId: `c-${w}`, lines: [{ lineId: '1', sku: 'ANL-PRO', quantity: 5, action: 'new' }] })], { expectedRevision: 'no_stream' });
        await store.append(`entitlement-${entitlementId}`, grantedEvents(entitlementId, `c-${w}`), { expectedRevision: 'no_stream' });
        await store.append(`order-${orderId}`, [ev('OrderFulfilled', { orderId, lines: [{ lineId: '1', entitlementId, status: 'fulfilled' }] })], { expectedRevision: 0 });
        latencies.push(performance.now() - t);
        orders += 1;
        events += 4;
        i += 1;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  await store.close();
  cleanup();
  latencies.sort((a, b) => a - b);
  const appends = flushes.reduce((n, f) => n + f.appends, 0);
  return [
    `${writers} writers, orders (3 appends, 4 events)`,
    String(writers),
    fmt(orders / elapsed),
    fmt(events / elapsed),
    fmt(appends / flushes.length, 1),
    fmt(percentile(latencies, 50), 2),
    fmt(percentile(latencies, 99), 2),
  ];
}

async function replay(): Promise<string[][]> {
  const { dir, cleanup } = benchDir('replay');
  const path = join(dir, 'events.db');
  // Fill quickly without fsync: only reading is measured here.
  const writer = SqliteEventStore.open({ path, synchronous: 'OFF' });
  const template = grantedEvents('e-template', 'c-template');
  let written = 0;
  while (written < REPLAY_EVENTS) {
    const pending: Promise<unknown>[] = [];
    for (let k = 0; k < 500 && written < REPLAY_EVENTS; k++) {
      const id = `e-${written}`;
      const batch = template.slice(0, Math.min(2, REPLAY_EVENTS - written)).map((e) => ({ ...e, id: randomUUID(), data: { ...(e.data as object), entitlementId: id } }));
      pending.push(writer.append(`entitlement-${id}`, batch));
      written += batch.length;
    }
    await Promise.all(pending);
  }
  await writer.close();

  const store = SqliteEventStore.open({ path });
  let t = performance.now();
  let n = 0;
  let after = 0;
  for (;;) {
    const page = await store.readAll({ after, maxCount: 1000 });
    if (page.length === 0) break;
    n += page.length;
    after = page[page.length - 1]!.position;
  }
  const readAllRate = n / ((performance.now() - t) / 1000);

  // The same, touching every event's data and metadata (what a projection does).
  t = performance.now();
  let decoded = 0;
  after = 0;
  for (;;) {
    const page = await store.readAll({ after, maxCount: 1000 });
    if (page.length === 0) break;
    for (const e of page) if (e.data !== undefined && e.metadata !== undefined) decoded += 1;
    after = page[page.length - 1]!.position;
  }
  const decodeRate = decoded / ((performance.now() - t) / 1000);

  t = performance.now();
  let seen = 0;
  await new Promise<void>((resolve) => {
    const sub = store.subscribeAll(
      (batch) => {
        seen += batch.length;
        if (seen >= n) void sub.stop().then(resolve);
      },
      { batchSize: 1000 },
    );
  });
  const subscribeRate = seen / ((performance.now() - t) / 1000);
  await store.close();
  cleanup();
  return [
    [`readAll, pages of 1,000 (JSON decoded on access)`, fmt(n), fmt(readAllRate)],
    [`readAll, pages of 1,000, decoding every event's data and metadata`, fmt(decoded), fmt(decodeRate)],
    [`subscribeAll catch-up, batches of 1,000`, fmt(seen), fmt(subscribeRate)],
  ];
}

interface PeerRun {
  readonly name: string;
  readonly appends: number;
  readonly events: number;
  readonly seconds: number;
  readonly p50: number;
  readonly p99: number;
}

/** `writers` loops appending for PEER_SECONDS: one event to one of 100 streams, or (`order`) a new stream of the four events of an order. */
async function peerRun(open: (path: string) => Promise<PeerStore>, writers: number, order: boolean): Promise<PeerRun> {
  const { dir, cleanup } = benchDir('peer');
  const store = await open(join(dir, 'events.db'));
  const latencies: number[] = [];
  let appends = 0;
  let events = 0;
  const started = performance.now();
  const deadline = started + PEER_SECONDS * 1000;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; performance.now() < deadline; i++) {
        const id = `e-${w}-${i}`;
        const batch = order ? [ev('OrderReceived', { orderId: id }), ...grantedEvents(id, `c-${w}`), ev('OrderFulfilled', { orderId: id })] : [ev('Ping', { n: i })];
        const t = performance.now();
        await store.append(order ? `entitlement-${id}` : `s-${i % 100}`, batch, order);
        latencies.push(performance.now() - t);
        appends += 1;
        events += batch.length;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await store.close();
  cleanup();
  latencies.sort((a, b) => a - b);
  return { name: store.name, appends, events, seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

async function peers(): Promise<string[][]> {
  const stores: { name: string; open: (path: string) => Promise<PeerStore> }[] = [
    { name: 'ours', open: async (p) => ours(p) },
    { name: 'emmett', open: (p) => emmett(p, EMMETT_VERSION) },
    { name: 'raw', open: async (p) => raw(p) },
  ];
  const rows: string[][] = [];
  for (const [label, writers, order] of [
    ['1 writer, 1 event per append', 1, false],
    ['64 writers, an order (4 events, new stream) per append', 64, true],
  ] as const) {
    const runs = new Map<string, { name: string; runs: PeerRun[] }>();
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order, so no store always runs first (or last) on this shared machine.
      const order_ = round % 2 === 0 ? stores : [...stores].reverse();
      for (const s of order_) {
        const r = await peerRun(s.open, writers, order);
        const entry = runs.get(s.name) ?? { name: r.name, runs: [] };
        entry.runs.push(r);
        runs.set(s.name, entry);
        process.stderr.write(`  ${label}: ${r.name} ${fmt(r.appends / r.seconds)} appends/s\n`);
      }
    }
    const med = (xs: PeerRun[]) => [...xs].sort((a, b) => a.appends / a.seconds - b.appends / b.seconds)[Math.floor(xs.length / 2)]!;
    const base = med(runs.get('ours')!.runs);
    for (const s of stores) {
      const { name, runs: rs } = runs.get(s.name)!;
      const m = med(rs);
      rows.push([label, name, fmt(m.appends / m.seconds), fmt(m.events / m.seconds), fmt(m.p50, 2), fmt(m.p99, 2), s.name === 'ours' ? '1.00×' : ratio(base.appends / base.seconds, m.appends / m.seconds)]);
    }
  }
  return rows;
}

async function main() {
  console.log(`# bench:store — ${machine()}, ${new Date().toISOString().slice(0, 10)}, ${SECONDS}s per write scenario, dir ${process.env['BENCH_DIR'] ?? 'os.tmpdir()'}\n`);
  if (ONLY !== 'peers') await ownScenarios();
  console.log(`\nPeers, same run, same rows, WAL + synchronous=FULL for all (median of ${ROUNDS} alternating rounds of ${PEER_SECONDS} s):\n`);
  console.log(table(['scenario', 'store', 'appends/s', 'events/s', 'p50 ms', 'p99 ms', 'ours ÷ this'], await peers()));
}

async function ownScenarios() {
  const writes: string[][] = [await singleWriter()];
  for (const w of [16, 64, 256]) writes.push(await concurrentOrders(w));
  writes.push(await singleAppendOrders(64));
  console.log(`Durable appends (synchronous=FULL, WAL; writer: ${WRITER}):\n`);
  console.log(table(['scenario', 'writers', 'orders or appends/s', 'events/s', 'appends per commit', 'p50 ms', 'p99 ms'], writes));
  console.log('\nReplay:\n');
  console.log(table(['scenario', 'events', 'events/s'], await replay()));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
