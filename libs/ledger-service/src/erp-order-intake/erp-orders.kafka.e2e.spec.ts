import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Kafka, logLevel, type Admin, type Consumer, type IHeaders, type Producer } from 'kafkajs';
import { CATALOG_KEY, catalogPublishedSchemaV1, CONTROL_HEADER, entitlementEventSchemaV1, erpOrderSchemaV1, isControlMessage, TOPICS, WATERMARK_KEY, watermarkSchemaV1, type DeadLetterV1, type EntitlementEventV1 } from '@el/contracts';
import { BusServer } from '@el/messaging';
import { compileSchema } from '@el/platform';
import { describeWithKafka, kafkaForTests, mutations, namesField, propertyParams, serialize, until, type Path, type Schema } from '@el/testing';
import { entitlementIdForLine } from '../place-order/order-process';
import { startLedgerApp, type LedgerTestApp } from '../testing/ledger-test-app';

interface Seen<T> {
  key: string | null;
  partition: number;
  offset: string;
  headers: Record<string, string>;
  value: T;
}

describeWithKafka('ERP orders over Kafka', () => {
  const run = randomUUID().slice(0, 8);
  const group = `ledger-erp-orders-${run}`;
  let t: LedgerTestApp;
  let kafka: Kafka;
  let producer: Producer;
  let admin: Admin;
  const watchers: Consumer[] = [];
  /** Every message of ledger.entitlements.v1, control messages included. */
  const topicMessages: Seen<EntitlementEventV1>[] = [];
  const deadLetters: Seen<DeadLetterV1>[] = [];

  const watch = async <T>(topic: string, into: Seen<T>[]) => {
    const c = kafka.consumer({ groupId: `watch-${topic}-${randomUUID()}`, maxWaitTimeInMs: 100 });
    await c.connect();
    await c.subscribe({ topic, fromBeginning: true });
    await c.run({
      eachMessage: async ({ partition, message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        into.push({ key: message.key?.toString() ?? null, partition, offset: message.offset, headers, value: JSON.parse(message.value!.toString()) as T });
      },
    });
    watchers.push(c);
  };
  const send = (key: string, value: string | Buffer) => producer.send({ topic: TOPICS.erpOrders, acks: -1, messages: [{ key, value }] });
  const order = (orderId: string, customerId: string, quantity = 3) => JSON.stringify({ orderId, customerId, lines: [{ lineId: '1', sku: 'ANL-PRO', quantity, action: 'new' }] });
  const granted = (customerId: string) => topicMessages.filter((m) => !isControlMessage(m.headers)).filter((e) => e.value.customerid === customerId && e.value.type === 'io.ledger.entitlement.granted.v1');

  beforeAll(async () => {
    t = await startLedgerApp({ env: { BUS: 'kafka', KAFKA_BROKERS: kafkaForTests.brokers.join(','), KAFKA_TOPIC_PARTITIONS: '3', ERP_ORDERS_GROUP: group } });
    kafka = new Kafka({ clientId: 'erp-test', brokers: kafkaForTests.brokers, logLevel: logLevel.NOTHING });
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    admin = kafka.admin();
    await admin.connect();
    await watch(TOPICS.entitlements, topicMessages);
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
    const bus = t.app.get(BusServer);
    await bus.close();
    await admin.resetOffsets({ groupId: group, topic: TOPICS.erpOrders, earliest: true });
    await new Promise<void>((resolve, reject) => void bus.listen((err?: unknown) => (err ? reject(err) : resolve())));
    // K1, K2 and K2 again: every message of the topic handled, each as a replay that writes nothing.
    await until('the redelivered orders to be handled', async () => {
      const metrics = (await t.http('GET', '/metrics')).body as string;
      return Number(/erp_orders_consumed_total\{outcome="replayed"\} (\d+)/.exec(metrics)?.[1] ?? 0) >= 3;
    });
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

  it('dead-letters random hostile messages with their reason, stores nothing for them, and keeps consuming (fast-check)', async () => {
    let n = 0;
    const orderFor = (orderId: string) => ({ orderId, customerId: `k-hostile-${run}`, lines: [{ lineId: '1', sku: 'ANL-PRO', quantity: 1, action: 'new' }] });
    type Hostile = { readonly kind: string; readonly key: string | null; readonly value: Buffer | null; readonly headers?: IHeaders; readonly path?: Path; readonly orderId?: string };
    const bytes = (text: string) => Buffer.from(text, 'utf8');
    const key = fc.option(fc.constant('h'), { nil: null, freq: 3 });
    const hostile: fc.Arbitrary<Hostile> = fc.oneof(
      // Broken at any field of the contract's schema (the same mutations as the HTTP fuzz test).
      { weight: 4, arbitrary: fc.tuple(mutations(erpOrderSchemaV1 as Schema, { base: orderFor('H-base') }), key).map(([m, k]) => ({ kind: `${m.kind} at ${m.path.join('.')}`, key: k, value: bytes(serialize(m.body)), ...(m.naming === 'field' ? { path: m.path } : {}) })) },
      // Not JSON, not an object, nothing at all, or far too big for an order.
      fc.tuple(fc.oneof(fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)), fc.constantFrom('{', '{"orderId":', '\uFEFF{}', 'null', '[]', '"SO-1"', '{"a":NaN}').map(bytes)), key).map(([value, k]) => ({ kind: 'not an order', key: k, value })),
      key.map((k) => ({ kind: 'no value (a tombstone)', key: k, value: null })),
      key.map((k) => ({ kind: 'huge', key: k, value: bytes(JSON.stringify({ ...orderFor('H-huge'), pad: 'x'.repeat(400_000) })), path: ['pad'] })),
      // A well-formed order with headers that are no identifiers: refused whole, its order never placed.
      // (Its orderId can be the same every time: it must never be placed.)
      fc.tuple(fc.constantFrom('x-erp-id', 'x-correlation-id'), fc.constantFrom('', 'sap prod', 'é', 'x'.repeat(200), 'a\u0000b')).map(([name, v]) => ({
        kind: `header ${name}`,
        key: `H-hdr-${run}`,
        value: bytes(JSON.stringify(orderFor(`H-hdr-${run}`))),
        headers: { [name]: v },
        path: ['headers', name],
        orderId: `H-hdr-${run}`,
      })),
    );
    // Printed short in a counterexample.
    const shown = (h: Hostile): Hostile =>
      Object.assign(h, { [fc.toStringMethod]: () => `${h.kind}, key ${h.key}${h.headers ? `, headers ${JSON.stringify(h.headers)}` : ''}: ${h.value === null ? 'null' : JSON.stringify(h.value.toString('utf8').slice(0, 120))}` });
    const dlqOf = (partition: number, offset: string) => deadLetters.filter((d) => d.value.original.partition === partition && d.value.original.offset === offset);

    await fc.assert(
      fc.asyncProperty(fc.array(hostile.map(shown), { minLength: 1, maxLength: 8 }), async (messages) => {
        const before = await t.head();
        const sent: { m: Hostile; offset: string }[] = [];
        // One partition, so that the good order comes after every hostile one.
        for (const m of messages) {
          const [meta] = await producer.send({ topic: TOPICS.erpOrders, acks: -1, messages: [{ key: m.key, value: m.value, partition: 0, ...(m.headers ? { headers: m.headers } : {}) }] });
          sent.push({ m, offset: meta!.baseOffset! });
        }
        const good = `H-good-${run}-${n++}`;
        await producer.send({ topic: TOPICS.erpOrders, acks: -1, messages: [{ key: good, value: JSON.stringify(orderFor(good)), partition: 0 }] });
        await until('the good order after the hostile ones', async () => (await t.http('GET', `/v1/orders/${good}`)).body?.status === 'fulfilled', { timeoutMs: 30_000 });
        await until('a dead letter for every hostile message', () => sent.every(({ offset }) => dlqOf(0, offset).length > 0), { timeoutMs: 30_000 });

        const problems: string[] = [];
        for (const { m, offset } of sent) {
          const [letter, ...more] = dlqOf(0, offset);
          const d = letter!.value;
          const where = `${m.kind} (offset ${offset})`;
          if (more.length > 0) problems.push(`${where}: dead-lettered ${more.length + 1} times`);
          if (!d.reason.code || !d.reason.message) problems.push(`${where}: no reason`);
          if (d.original.key !== m.key) problems.push(`${where}: original key ${d.original.key}, sent ${m.key}`);
          if ((d.original.valueBase64 === null ? null : Buffer.from(d.original.valueBase64, 'base64').toString('hex')) !== (m.value?.toString('hex') ?? null)) problems.push(`${where}: the original bytes were not kept`);
          if (m.path && !namesField((d.reason.errors ?? []).map((e) => e.path), m.path)) problems.push(`${where}: the reason names ${JSON.stringify(d.reason.errors?.map((e) => e.path))}, not ${m.path.join('.')}`);
          if (m.orderId && (await t.http('GET', `/v1/orders/${m.orderId}`)).status !== 404) problems.push(`${where}: order ${m.orderId} was placed`);
        }
        // Stored since: the good order's events, nothing else.
        const streams = new Set((await t.eventsAfter(before)).map((e) => e.stream));
        const expected = new Set([`order-${good}`, `entitlement-${entitlementIdForLine(good, '1')}`]);
        if ([...streams].some((s) => !expected.has(s))) problems.push(`stored events on ${[...streams].filter((s) => !expected.has(s)).join(', ')}`);
        if (problems.length > 0) throw new Error(problems.join('\n'));
      }),
      propertyParams(4),
    );
  });

  it('carries on ledger.entitlements.v1 only what the contract documents, every message checked against its schema', async () => {
    await until('the last grant to be published', () => granted(`k-cust-4-${run}`).length === 1);
    const validChange = compileSchema(entitlementEventSchemaV1);
    const validWatermark = compileSchema(watermarkSchemaV1);
    const validCatalog = compileSchema(catalogPublishedSchemaV1);
    expect(topicMessages.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const m of topicMessages) {
      const where = `partition ${m.partition} offset ${m.offset}`;
      if (isControlMessage(m.headers)) {
        const kind = m.headers[CONTROL_HEADER];
        if (kind === 'catalog') {
          if (m.key !== CATALOG_KEY) problems.push(`${where}: a catalog version must be keyed "${CATALOG_KEY}"`);
          problems.push(...validCatalog(m.value).map((e) => `${where}: ${e.message}`));
        } else {
          if (kind !== 'watermark' || m.key !== WATERMARK_KEY) problems.push(`${where}: a control message must be a watermark keyed "${WATERMARK_KEY}" or a catalog version keyed "${CATALOG_KEY}"`);
          problems.push(...validWatermark(m.value).map((e) => `${where}: ${e.message}`));
        }
      } else {
        problems.push(...validChange(m.value).map((e) => `${where}: ${e.message}`));
        if (m.key !== m.value.customerid) problems.push(`${where}: keyed ${m.key}, not by its customer ${m.value.customerid}`);
        if (m.headers['ce_type'] !== m.value.type || m.headers['ce_id'] !== m.value.id) problems.push(`${where}: ce_type/ce_id headers do not match the value`);
      }
    }
    expect(problems).toEqual([]);
    // Every kind was seen (the catalog version the ledger published at its start included).
    expect(topicMessages.some((m) => m.headers[CONTROL_HEADER] === 'watermark')).toBe(true);
    expect(topicMessages.some((m) => m.headers[CONTROL_HEADER] === 'catalog')).toBe(true);
    expect(topicMessages.some((m) => !isControlMessage(m.headers))).toBe(true);
  });
});
