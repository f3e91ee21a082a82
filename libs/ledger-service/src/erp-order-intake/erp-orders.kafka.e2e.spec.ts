import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin, type Consumer, type Producer } from 'kafkajs';
import { TOPICS, type DeadLetterV1, type EntitlementEventV1 } from '@el/contracts';
import { describeWithKafka, kafkaForTests } from '@el/testing';
import { entitlementIdForLine } from '../place-order/order-process';
import { startLedgerApp, type LedgerTestApp } from '../testing/ledger-test-app';
import { ErpOrderConsumer } from './erp-order-consumer';

interface Seen<T> {
  key: string | null;
  partition: number;
  offset: string;
  value: T;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describeWithKafka('ERP orders over Kafka', () => {
  const run = randomUUID().slice(0, 8);
  const group = `ledger-erp-orders-${run}`;
  let t: LedgerTestApp;
  let kafka: Kafka;
  let producer: Producer;
  let admin: Admin;
  const watchers: Consumer[] = [];
  const entitlementEvents: Seen<EntitlementEventV1>[] = [];
  const deadLetters: Seen<DeadLetterV1>[] = [];

  const watch = async <T>(topic: string, into: Seen<T>[]) => {
    const c = kafka.consumer({ groupId: `watch-${topic}-${randomUUID()}`, maxWaitTimeInMs: 100 });
    await c.connect();
    await c.subscribe({ topic, fromBeginning: true });
    await c.run({ eachMessage: async ({ partition, message }) => void into.push({ key: message.key?.toString() ?? null, partition, offset: message.offset, value: JSON.parse(message.value!.toString()) as T }) });
    watchers.push(c);
  };
  const send = (key: string, value: string | Buffer) => producer.send({ topic: TOPICS.erpOrders, acks: -1, messages: [{ key, value }] });
  const order = (orderId: string, customerId: string, quantity = 3) => JSON.stringify({ orderId, customerId, lines: [{ lineId: '1', sku: 'ANL-PRO', quantity, action: 'new' }] });
  const granted = (customerId: string) => entitlementEvents.filter((e) => e.value.customerid === customerId && e.value.type === 'io.ledger.entitlement.granted.v1');

  beforeAll(async () => {
    t = await startLedgerApp({ env: { BUS: 'kafka', KAFKA_BROKERS: kafkaForTests.brokers.join(','), KAFKA_TOPIC_PARTITIONS: '3', ERP_ORDERS_GROUP: group } });
    kafka = new Kafka({ clientId: 'erp-test', brokers: kafkaForTests.brokers, logLevel: logLevel.NOTHING });
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    admin = kafka.admin();
    await admin.connect();
    await watch(TOPICS.entitlements, entitlementEvents);
    await watch(TOPICS.erpOrdersDlq, deadLetters);
  });

  afterAll(async () => {
    for (const c of watchers) await c.disconnect();
    await producer?.disconnect();
    await admin?.disconnect();
    await t?.close(true);
  });

  it('turns an ERP order produced to erp.orders.v1 into an entitlement event on ledger.entitlements.v1, keyed by customer', async () => {
    const customer = `k-cust-1-${run}`;
    await send(`K1-${run}`, order(`K1-${run}`, customer));
    await until('the grant on ledger.entitlements.v1', () => granted(customer).length === 1);
    const [event] = granted(customer);
    expect(event!.key).toBe(customer);
    expect(event!.value).toMatchObject({
      specversion: '1.0',
      type: 'io.ledger.entitlement.granted.v1',
      subject: entitlementIdForLine(`K1-${run}`, '1'),
      customerid: customer,
      data: { entitlement: { customerId: customer, planSku: 'ANL-PRO', seats: 3, status: 'active', revision: 0 }, origin: 'erp', actor: { type: 'erp' } },
    });
    // The ledger's own read side agrees.
    const owned = await t.http('GET', `/v1/customers/${customer}/entitlements?minPosition=${event!.value.position}`);
    expect(owned.body.items.map((e: { entitlementId: string }) => e.entitlementId)).toEqual([event!.value.subject]);
  });

  it('gives a duplicate order and a redelivered message exactly one effect', async () => {
    const customer = `k-cust-2-${run}`;
    const bytes = order(`K2-${run}`, customer);
    await send(`K2-${run}`, bytes);
    await send(`K2-${run}`, bytes); // the ERP sent the same order twice
    await until('the grant', () => granted(customer).length >= 1);
    const head = await t.head();
    // Redelivery: the consumer group is rewound to the start of the topic and reads everything again.
    const consumer = t.app.get(ErpOrderConsumer);
    await consumer.beforeApplicationShutdown();
    await admin.resetOffsets({ groupId: group, topic: TOPICS.erpOrders, earliest: true });
    await consumer.onApplicationBootstrap();
    await until('the redelivered orders to be handled', async () => {
      const metrics = (await t.http('GET', '/metrics')).body as string;
      const replayed = Number(/erp_orders_consumed_total\{outcome="replayed"\} (\d+)/.exec(metrics)?.[1] ?? 0);
      return replayed >= 3; // K1, K2 and K2 again
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(await t.head()).toBe(head);
    expect(granted(customer)).toHaveLength(1);
    const grants = (await t.eventsAfter(0)).filter((e) => e.type === 'EntitlementGranted' && (e.data as { customerId: string }).customerId === customer);
    expect(grants).toHaveLength(1);
  });

  it('sends a poison message to erp.orders.v1.dlq with its reason and bytes, and processes the next good message', async () => {
    const customer = `k-cust-3-${run}`;
    const garbage = Buffer.from([0x7b, 0xff, 0xfe, 0x00]);
    await send(`poison-${run}`, garbage);
    await send(`invalid-${run}`, JSON.stringify({ orderId: `K3x-${run}`, customerId: customer, lines: [{ lineId: '1', sku: 'ANL-PRO', quantity: 0, action: 'new' }] }));
    await send(`K3-${run}`, order(`K3-${run}`, customer));
    await until('the good order after the poison', () => granted(customer).length === 1);
    await until('both dead letters', () => deadLetters.filter((d) => d.key?.endsWith(run) && (d.key.startsWith('poison') || d.key.startsWith('invalid'))).length === 2);
    const poison = deadLetters.find((d) => d.key === `poison-${run}`)!;
    expect(poison.value).toMatchObject({ kind: 'dead-letter.v1', consumerGroup: group, reason: { code: 'MESSAGE.UNPARSEABLE' }, original: { topic: TOPICS.erpOrders, key: `poison-${run}` } });
    expect(Buffer.from(poison.value.original.valueBase64!, 'base64')).toEqual(garbage);
    expect(Number(poison.value.original.offset)).toBeGreaterThanOrEqual(0);
    expect(poison.value.original.partition).toBeGreaterThanOrEqual(0);
    const invalid = deadLetters.find((d) => d.key === `invalid-${run}`)!;
    expect(invalid.value.reason).toMatchObject({ code: 'MESSAGE.INVALID', errors: [{ path: 'lines[0].quantity' }] });
  });

  it('dead-letters an orderId reused with another payload, and records orders that cannot be fulfilled', async () => {
    const customer = `k-cust-4-${run}`;
    await send(`K4-${run}`, order(`K4-${run}`, customer, 2));
    await until('the first order', () => granted(customer).length === 1);
    await send(`K4-${run}`, order(`K4-${run}`, customer, 9));
    await until('the conflicting order in the DLQ', () => deadLetters.some((d) => d.key === `K4-${run}`));
    expect(deadLetters.find((d) => d.key === `K4-${run}`)!.value.reason.code).toBe('ORDER.PAYLOAD_MISMATCH');
    await send(`K5-${run}`, JSON.stringify({ orderId: `K5-${run}`, customerId: customer, lines: [{ lineId: '1', sku: 'NOT-IN-CATALOG', quantity: 1, action: 'new' }] }));
    await until('the rejection to be recorded', async () => (await t.http('GET', `/v1/orders/K5-${run}`)).status === 200);
    expect((await t.http('GET', `/v1/orders/K5-${run}`)).body).toMatchObject({ status: 'rejected', rejection: { code: 'CATALOG.UNKNOWN_SKU' } });
    expect(deadLetters.some((d) => d.key === `K5-${run}`)).toBe(false);
  });
});
