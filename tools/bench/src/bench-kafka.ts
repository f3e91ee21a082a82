/**
 * npm run bench:kafka — on a real single-node broker (KRaft, from Maven Central):
 *  1. end to end: BENCH_ORDERS (default 20,000) ERP orders produced to
 *     erp.orders.v1 until every grant is on ledger.entitlements.v1, through the
 *     embedded process running with BUS=kafka (ERP consumer, ledger, relay);
 *  2. relay: BENCH_RELAY_EVENTS (default 200,000) stored events published to
 *     ledger.entitlements.v1 (mapping with full state, acks=all, checkpoints);
 *  3. latency: publish → consume of single messages at BENCH_LATENCY_RATE/s.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { TOPICS } from '@el/contracts';
import { InMemoryCheckpointStore, SqliteEventStore } from '@el/event-store';
import { EntitlementRelay, KafkaIntegrationEvents } from '@el/messaging';
import { freePort, startKafka, type KafkaBroker } from '@el/testing';
import { benchDir, fmt, machine, percentile, table } from './bench-util';
import { appendOrder } from './ledger-events';

const ORDERS = Number(process.env['BENCH_ORDERS'] ?? 20_000);
const RELAY_EVENTS = Number(process.env['BENCH_RELAY_EVENTS'] ?? 200_000);
const LATENCY_RATE = Number(process.env['BENCH_LATENCY_RATE'] ?? 1000);
const LATENCY_SECONDS = Number(process.env['BENCH_LATENCY_SECONDS'] ?? 10);
const ROOT = join(__dirname, '..', '..', '..', '..');
const quiet = () => undefined;

async function endToEnd(broker: KafkaBroker): Promise<string[]> {
  const { dir, cleanup } = benchDir('kafka-e2e');
  const port = await freePort();
  // BENCH_APP_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", to profile the process under load.
  const nodeArgs = (process.env['BENCH_APP_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  const app = spawn(process.execPath, [...nodeArgs, join(ROOT, 'dist', 'apps', 'embedded', 'src', 'main.js')], {
    cwd: ROOT,
    env: { ...process.env, DATA_DIR: dir, PORT: String(port), LOG_LEVEL: 'warn', BUS: 'kafka', KAFKA_BROKERS: broker.brokers.join(','), KAFKA_TOPIC_PARTITIONS: '6', ERP_ORDERS_GROUP: `bench-${randomUUID()}` },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    app.stdout!.on('data', (d: Buffer) => d.toString().includes('is up') && resolve());
    app.on('exit', (code) => reject(new Error(`embedded process exited with ${code}`)));
  });
  const kafka = new Kafka({ clientId: 'bench', brokers: broker.brokers, logLevel: logLevel.NOTHING });
  const run = randomUUID().slice(0, 8);
  let granted = 0;
  let lastGrantAt = 0;
  const consumer = kafka.consumer({ groupId: `bench-watch-${run}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPICS.entitlements, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) if (m.headers?.['ce_type']?.toString() === 'io.ledger.entitlement.granted.v1') granted += 1;
      lastGrantAt = performance.now();
    },
  });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const started = performance.now();
  for (let i = 0; i < ORDERS; i += 500) {
    await producer.send({
      topic: TOPICS.erpOrders,
      acks: -1,
      messages: Array.from({ length: Math.min(500, ORDERS - i) }, (_, k) => {
        const orderId = `B-${run}-${i + k}`;
        return { key: orderId, value: JSON.stringify({ orderId, customerId: `c-${(i + k) % 2000}`, lines: [{ lineId: '1', sku: 'ANL-PRO', quantity: 3, action: 'new' }] }) };
      }),
    });
  }
  const produced = performance.now();
  const deadline = Date.now() + 30 * 60_000;
  while (granted < ORDERS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const seconds = (lastGrantAt - started) / 1000;
  await consumer.disconnect();
  await producer.disconnect();
  app.kill('SIGTERM');
  await new Promise((r) => app.on('exit', r));
  cleanup();
  return ['ERP order → grant on ledger.entitlements.v1 (embedded process, BUS=kafka)', fmt(ORDERS), fmt(seconds, 1), fmt(ORDERS / seconds), `orders produced in ${fmt((produced - started) / 1000, 1)} s`];
}

async function relay(broker: KafkaBroker): Promise<string[]> {
  const { dir, cleanup } = benchDir('kafka-relay');
  const path = join(dir, 'events.db');
  const seed = SqliteEventStore.open({ path, synchronous: 'OFF' });
  let events = 0;
  for (let n = 0; events < RELAY_EVENTS; n += 256) {
    const batch = await Promise.all(Array.from({ length: 256 }, (_, i) => appendOrder(seed, n + i, 5000, 3)));
    events += batch.reduce((s, b) => s + b.events, 0);
  }
  const head = await seed.headPosition();
  await seed.close();
  const store = SqliteEventStore.open({ path });
  const bus = new KafkaIntegrationEvents({ brokers: broker.brokers, clientId: 'bench-relay', partitions: 6, log: quiet });
  const topic = `ledger.entitlements.v1.bench-${randomUUID()}`;
  let published = 0;
  const r = new EntitlementRelay(store, bus, new InMemoryCheckpointStore(), { subscriptionId: 'bench', topic, batchSize: 2000, onBatch: (b) => (published += b.published) });
  await bus.ensureTopics([topic]);
  const started = performance.now();
  await r.start();
  while (r.position() < head) await new Promise((res) => setTimeout(res, 10));
  const seconds = (performance.now() - started) / 1000;
  await r.stop();
  await bus.close();
  await store.close();
  cleanup();
  return ['relay: stored events → ledger.entitlements.v1 (full state, acks=all, checkpointed)', fmt(published), fmt(seconds, 1), fmt(published / seconds), `${fmt(head)} events read`];
}

async function latency(broker: KafkaBroker): Promise<string[]> {
  const bus = new KafkaIntegrationEvents({ brokers: broker.brokers, clientId: 'bench-latency', partitions: 6, log: quiet });
  const topic = `bench-latency-${randomUUID()}`;
  await bus.ensureTopics([topic]);
  const lat: number[] = [];
  const consumer = await bus.consume(topic, `g-${randomUUID()}`, async (m) => {
    lat.push(performance.timeOrigin + performance.now() - Number(JSON.parse(m.value!.toString()).sentAt));
  });
  await new Promise((r) => setTimeout(r, 3000)); // let the group settle
  const started = performance.now();
  let sent = 0;
  while (performance.now() - started < LATENCY_SECONDS * 1000) {
    const due = Math.floor(((performance.now() - started) / 1000) * LATENCY_RATE);
    const pending: Promise<void>[] = [];
    while (sent < due) {
      sent += 1;
      pending.push(bus.publish(topic, [{ key: `k-${sent % 64}`, id: randomUUID(), value: { sentAt: performance.timeOrigin + performance.now() } }]));
    }
    await Promise.all(pending);
    await new Promise((r) => setTimeout(r, 1));
  }
  const deadline = Date.now() + 30_000;
  while (lat.length < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await consumer.stop();
  await bus.close();
  lat.sort((a, b) => a - b);
  return [`${fmt(LATENCY_RATE)} msgs/s for ${LATENCY_SECONDS} s`, fmt(lat.length), fmt(percentile(lat, 50), 1), fmt(percentile(lat, 99), 1), fmt(lat[lat.length - 1] ?? 0, 1)];
}

async function main() {
  console.log(`# bench:kafka — ${machine()}, Apache Kafka single node (KRaft) on the same machine\n`);
  const broker = await startKafka({ partitions: 6, log: (l) => process.stderr.write(`${l}\n`) });
  try {
    const rows = [await endToEnd(broker), await relay(broker)];
    console.log(table(['path', 'messages', 'seconds', 'per second', 'note'], rows));
    console.log('\nPublish → consume latency (idempotent producer, acks=all; consumer commits after handling):\n');
    console.log(table(['load', 'messages', 'p50 ms', 'p99 ms', 'max ms'], [await latency(broker)]));
  } finally {
    await broker.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
