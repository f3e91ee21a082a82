/**
 * npm run bench:projection
 *  1. rebuild throughput: BENCH_EVENTS (default 1,000,000) ledger events
 *     rebuilt into fresh read models, on SQLite and on PostgreSQL (durable
 *     settings: fsync on), with the same code `npm run rebuild` runs;
 *     Beside them, in the same run, their peer: the store's raw readAll of the
 *     same log, pages of the rebuild's size, decoding every event's data and
 *     metadata — reading is the floor of any rebuild. BENCH_ONLY=rebuild stops here;
 *  2. projection lag while BENCH_RATE (default 1,000) orders/s are ingested:
 *     the projector runs as its own process (apps/projector, as in distributed
 *     mode); the time from an order's last append to the projector's commit of
 *     its position, for every order, p50/p99.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteEventStore } from '@el/event-store';
import { dialectOf, openReadModels, readCheckpoint, rebuildReadModels, type ReadDbConfig } from '@el/read-models';
import { createDatabase, freePort, startPostgres, type PostgresServer } from '@el/testing';
import { benchDir, fmt, machine, percentile, ratio, table } from './bench-util';
import { appendOrder } from './ledger-events';

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 1_000_000);
const RATE = Number(process.env['BENCH_RATE'] ?? 1000);
const LAG_SECONDS = Number(process.env['BENCH_LAG_SECONDS'] ?? 20);
const ROOT = join(__dirname, '..', '..', '..', '..');
const ONLY = process.env['BENCH_ONLY'];
const BATCH = 2000;

async function seed(path: string): Promise<number> {
  const store = SqliteEventStore.open({ path, synchronous: 'OFF' });
  let events = 0;
  let n = 0;
  const started = performance.now();
  while (events < EVENTS) {
    const batch = await Promise.all(Array.from({ length: 256 }, () => appendOrder(store, n++, 50_000, 3)));
    events += batch.reduce((s, b) => s + b.events, 0);
    if (n % 25_600 === 0) process.stderr.write(`  seeding: ${fmt(events)} events\n`);
  }
  const head = await store.headPosition();
  await store.close();
  process.stderr.write(`  seeded ${fmt(head)} events in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return head;
}

/** The peer of a rebuild: readAll of the whole log in pages of BATCH, every event's data and metadata decoded. Best of two passes. */
async function decodedReadAll(eventsPath: string): Promise<{ events: number; seconds: number; cpuMicros: number }> {
  const store = SqliteEventStore.open({ path: eventsPath });
  try {
    let best = { events: 0, seconds: Infinity, cpuMicros: 0 };
    for (let pass = 0; pass < 2; pass++) {
      const cpu = process.cpuUsage();
      const started = performance.now();
      let after = 0;
      let events = 0;
      for (;;) {
        const page = await store.readAll({ after, maxCount: BATCH });
        if (page.length === 0) break;
        for (const e of page) if (e.data !== undefined && e.metadata !== undefined) events += 1;
        after = page[page.length - 1]!.position;
      }
      const seconds = (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpu);
      if (seconds < best.seconds) best = { events, seconds, cpuMicros: used.user + used.system };
    }
    return best;
  } finally {
    await store.close();
  }
}

async function rebuild(label: string, config: ReadDbConfig, eventsPath: string): Promise<{ row: string[]; perSecond: number; cpuPerEvent: number }> {
  const ds = await openReadModels(config);
  const store = SqliteEventStore.open({ path: eventsPath });
  const cpu = process.cpuUsage();
  try {
    const r = await rebuildReadModels(ds, store, {
      subscriptionId: 'read-models',
      batchSize: BATCH,
      onProgress: (p) => {
        if (p.phase !== 'copy') process.stderr.write(`  ${label}: ${p.phase}\n`);
      },
    });
    const used = process.cpuUsage(cpu);
    const cpuPerEvent = (used.user + used.system) / r.events;
    return { row: [label, fmt(r.events), r.seconds.toFixed(1), fmt(r.eventsPerSecond), fmt(cpuPerEvent, 1)], perSecond: r.eventsPerSecond, cpuPerEvent };
  } finally {
    await ds.destroy();
    await store.close();
  }
}

async function lag(label: string, config: ReadDbConfig, dataDir: string): Promise<string[]> {
  const eventsPath = join(dataDir, 'events.db');
  const store = SqliteEventStore.open({ path: eventsPath });
  const env = config.kind === 'postgres' ? { READ_DB: 'postgres', READ_DB_URL: config.url } : { READ_DB: 'sqlite', READ_DB_PATH: config.path };
  const projector = spawn(process.execPath, [join(ROOT, 'dist', 'apps', 'projector', 'src', 'main.js')], {
    env: { ...process.env, ...env, DATA_DIR: dataDir, PORT: String(await freePort()), LOG_LEVEL: 'warn', PROJECTOR_BATCH_SIZE: '500' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) => projector.stdout!.on('data', (d: Buffer) => d.toString().includes('Projector is up') && resolve()));
  const ds = await openReadModels(config);
  const qr = ds.createQueryRunner();
  const pending: { position: number; at: number }[] = [];
  const lags: number[] = [];
  let stop = false;
  // Watch the checkpoint: each order's lag is the time until the projector committed its position.
  const watcher = (async () => {
    while (!stop || pending.length > 0) {
      const checkpoint = await readCheckpoint(qr, dialectOf(ds), 'read-models');
      const now = performance.now();
      while (pending.length > 0 && pending[0]!.position <= checkpoint) lags.push(now - pending.shift()!.at);
      await new Promise((r) => setTimeout(r, 1));
    }
  })();
  const started = performance.now();
  let n = 1_000_000;
  let sent = 0;
  const inflight = new Set<Promise<void>>();
  while (performance.now() - started < LAG_SECONDS * 1000) {
    const due = Math.floor(((performance.now() - started) / 1000) * RATE);
    while (sent < due) {
      sent += 1;
      const p = appendOrder(store, n++, 5000, 1).then((r) => {
        pending.push({ position: r.position, at: performance.now() });
        pending.sort((a, b) => a.position - b.position);
        inflight.delete(p);
      });
      inflight.add(p);
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inflight);
  const achieved = sent / ((performance.now() - started) / 1000);
  stop = true;
  await watcher;
  projector.kill('SIGTERM');
  await new Promise((r) => projector.on('exit', r));
  await qr.release();
  await ds.destroy();
  await store.close();
  lags.sort((a, b) => a - b);
  return [label, fmt(achieved), fmt(lags.length), fmt(percentile(lags, 50), 1), fmt(percentile(lags, 99), 1), fmt(lags[lags.length - 1] ?? 0, 1)];
}

async function main() {
  if (!existsSync(join(ROOT, 'dist', 'apps', 'projector', 'src', 'main.js'))) throw new Error('run `npm run build` first');
  console.log(`# bench:projection — ${machine()}\n`);
  const work = benchDir('projection');
  let pg: PostgresServer | null = null;
  try {
    pg = await startPostgres({ durable: true });
    const eventsPath = join(work.dir, 'events.db');
    await seed(eventsPath);
    const read = await decodedReadAll(eventsPath);
    const readRate = read.events / read.seconds;
    const readCpu = read.cpuMicros / read.events;
    const sqlite = await rebuild('SQLite', { kind: 'sqlite', path: join(work.dir, 'rebuild-read-models.db') }, eventsPath);
    const postgres = await rebuild('PostgreSQL (fsync on)', { kind: 'postgres', url: await createDatabase(pg.url, 'bench_rebuild') }, eventsPath);
    console.log(`Rebuild of every read model from position 0 (npm run rebuild), ${new Date().toISOString().slice(0, 10)}; the peer, same run, same log:\n`);
    console.log(
      table(
        ['path', 'events', 'seconds', 'events/s', 'Node CPU µs/event', 'this ÷ decoded readAll', 'by Node CPU'],
        [
          ['the store\'s `readAll`, pages of 2,000, data and metadata decoded (peer)', fmt(read.events), read.seconds.toFixed(1), fmt(readRate), fmt(readCpu, 1), '1.00×', '1.00×'],
          [...sqlite.row.map((c, i) => (i === 0 ? `rebuild into ${c}` : c)), ratio(sqlite.perSecond, readRate), ratio(readCpu, sqlite.cpuPerEvent)],
          [...postgres.row.map((c, i) => (i === 0 ? `rebuild into ${c}` : c)), ratio(postgres.perSecond, readRate), ratio(readCpu, postgres.cpuPerEvent)],
        ],
      ),
    );
    const sqliteRatio = sqlite.perSecond / readRate;
    console.log(`\nrebuild into SQLite ÷ decoded readAll = ${ratio(sqlite.perSecond, readRate)} (aim ≥ 0.30×: ${sqliteRatio >= 0.3 ? 'met' : 'not met'}); into PostgreSQL ${fmt(postgres.perSecond)} events/s (aim ≥ 50,000: ${postgres.perSecond >= 50_000 ? 'met' : 'not met'})`);
    if (ONLY === 'rebuild') return;

    const lagDir = benchDir('lag');
    const lagDir2 = benchDir('lag-pg');
    const lags = [await lag('SQLite', { kind: 'sqlite', path: join(lagDir.dir, 'read-models.db') }, lagDir.dir)];
    lags.push(await lag('PostgreSQL (fsync on)', { kind: 'postgres', url: await createDatabase(pg.url, 'bench_lag') }, lagDir2.dir));
    lagDir.cleanup();
    lagDir2.cleanup();
    console.log(`\nProjection lag while orders are ingested (${RATE}/s for ${LAG_SECONDS} s; projector in its own process; append → committed in the read models):\n`);
    console.log(table(['read database', 'orders/s', 'orders measured', 'p50 ms', 'p99 ms', 'max ms'], lags));
  } finally {
    await pg?.stop();
    work.cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
