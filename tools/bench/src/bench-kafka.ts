/**
 * npm run bench:kafka — on a real single-node broker (KRaft, from Maven Central):
 *  1. end to end: BENCH_ORDERS (default 20,000) ERP orders produced to
 *     erp.orders.v1 until every grant is on ledger.entitlements.v1, through the
 *     embedded process running with BUS=kafka (ERP consumer, ledger, relay);
 *  2. relay: BENCH_RELAY_EVENTS (default 200,000) stored events published to
 *     ledger.entitlements.v1 (mapping with full state, acks=all, checkpoints);
 *  3. latency: publish → consume of single messages at BENCH_LATENCY_RATE/s;
 *  4. the relay's peer, in the same run on the same broker: Kafka's own
 *     ProducerPerformance (kafka-tools of the broker's release) sending as many
 *     records as the relay produced, of their average size, idempotent with
 *     acks=all, into a topic with as many partitions — and the ratio.
 * BENCH_ONLY=relay runs the relay and its peer only.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { TOPICS } from '@el/contracts';
import { InMemoryCheckpointStore, SqliteEventStore } from '@el/event-store';
import { EntitlementRelay, KafkaIntegrationEvents, type OutgoingMessage } from '@el/messaging';
import { freePort, kafkaVersion, startKafka, type KafkaBroker } from '@el/testing';
import { benchDir, fmt, machine, percentile, ratio, table } from './bench-util';
import { appendOrder } from './ledger-events';
import { ensureKafkaTools, producerPerformance } from './producer-performance';

const ORDERS = Number(process.env['BENCH_ORDERS'] ?? 20_000);
const RELAY_EVENTS = Number(process.env['BENCH_RELAY_EVENTS'] ?? 200_000);
const LATENCY_RATE = Number(process.env['BENCH_LATENCY_RATE'] ?? 1000);
const LATENCY_SECONDS = Number(process.env['BENCH_LATENCY_SECONDS'] ?? 10);
const ROOT = join(__dirname, '..', '..', '..', '..');
const ONLY = process.env['BENCH_ONLY'];
const PARTITIONS = 6;
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

/** Counts what the relay produces: records on every topic, and the size of every 16th value (JSON bytes). */
class CountingBus extends KafkaIntegrationEvents {
  records = 0;
  private sampled = 0;
  private sampledBytes = 0;

  override publish(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    this.records += messages.length;
    for (let i = 0; i < messages.length; i += 16) {
      this.sampled += 1;
      this.sampledBytes += Buffer.byteLength(JSON.stringify(messages[i]!.value));
    }
    return super.publish(topic, messages);
  }

  averageValueBytes(): number {
    return Math.round(this.sampledBytes / this.sampled);
  }
}

interface RelayRun {
  readonly row: string[];
  readonly records: number;
  readonly recordsPerSecond: number;
  readonly valueBytes: number;
}

async function relay(broker: KafkaBroker): Promise<RelayRun> {
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
  const bus = new CountingBus({ brokers: broker.brokers, clientId: 'bench-relay', partitions: PARTITIONS, log: quiet });
  const run = randomUUID();
  const topic = `ledger.entitlements.v1.bench-${run}`;
  const auditTopic = `ledger.audit.v1.bench-${run}`;
  let published = 0;
  const r = new EntitlementRelay(store, bus, new InMemoryCheckpointStore(), { subscriptionId: 'bench', topic, auditTopic, batchSize: 2000, onBatch: (b) => (published += b.published), onError: (err, attempt) => process.stderr.write(`relay: attempt ${attempt} failed: ${(err as Error).message}\n`) });
  const started = performance.now();
  await r.start();
  while (r.position() < head) await new Promise((res) => setTimeout(res, 10));
  const seconds = (performance.now() - started) / 1000;
  await r.stop();
  await bus.close();
  await store.close();
  cleanup();
  return {
    row: [
      'relay: stored events → ledger.entitlements.v1 (full state) + ledger.audit.v1 (every event), acks=all, checkpointed',
      fmt(bus.records),
      fmt(seconds, 1),
      fmt(bus.records / seconds),
      `${fmt(head)} events read; ${fmt(published)} entitlement messages (${fmt(published / seconds)}/s); values ${fmt(bus.averageValueBytes())} B on average`,
    ],
    records: bus.records,
    recordsPerSecond: bus.records / seconds,
    valueBytes: bus.averageValueBytes(),
  };
}

/** ProducerPerformance with the relay's record count and average value size, on a fresh topic with the same partitions. */
async function relayPeer(broker: KafkaBroker, relayRun: RelayRun): Promise<{ row: string[]; perSecond: number } | string> {
  const tools = ensureKafkaTools((line) => process.stderr.write(`${line}\n`));
  if ('skipped' in tools) return tools.skipped;
  const bus = new KafkaIntegrationEvents({ brokers: broker.brokers, clientId: 'bench-peer', partitions: PARTITIONS, log: quiet });
  const topic = `bench-producer-performance-${randomUUID()}`;
  await bus.ensureTopics([topic]);
  await bus.close();
  const pp = await producerPerformance(tools.libs, { brokers: broker.brokers, topic, records: relayRun.records, recordSize: relayRun.valueBytes });
  process.stderr.write(`ProducerPerformance: ${pp.line}\n`);
  const row = [
    `Kafka's ProducerPerformance ${kafkaVersion()} (same broker, idempotent, acks=all, ${PARTITIONS} partitions; Kafka's default batching)`,
    fmt(pp.records),
    fmt(pp.records / pp.perSecond, 1),
    fmt(pp.perSecond),
    `${fmt(relayRun.valueBytes)} B values, ${fmt(pp.mbPerSecond, 1)} MB/s, p99 ${fmt(pp.p99Ms)} ms`,
  ];
  return { row, perSecond: pp.perSecond };
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
  console.log(`# bench:kafka — ${machine()}, ${new Date().toISOString().slice(0, 10)}, Apache Kafka ${kafkaVersion()} single node (KRaft) on the same machine\n`);
  const broker = await startKafka({ partitions: PARTITIONS, log: (l) => process.stderr.write(`${l}\n`) });
  try {
    const rows = ONLY === 'relay' ? [] : [await endToEnd(broker)];
    const relayRun = await relay(broker);
    rows.push(relayRun.row);
    const peer = await relayPeer(broker, relayRun);
    if (typeof peer !== 'string') rows.push(peer.row);
    console.log(table(['path', 'records', 'seconds', 'per second', 'note'], rows));
    if (typeof peer === 'string') console.log(`\n${peer}`);
    else {
      const r = relayRun.recordsPerSecond / peer.perSecond;
      console.log(`\nrelay ÷ ProducerPerformance = ${ratio(r, 1)} (aim ≥ 0.50×: ${r >= 0.5 ? 'met' : 'not met'})`);
    }
    if (ONLY === 'relay') return;
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
