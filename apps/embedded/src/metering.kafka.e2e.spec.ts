import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Kafka, logLevel } from 'kafkajs';
import { TOPICS, usageEventSchemaV1, type DeadLetterV1 } from '@el/contracts';
import { INTEGRATION_EVENTS, jsonOf, KafkaIntegrationEvents, type IntegrationEvents, type RunningConsumer } from '@el/messaging';
import { describeWithKafka, kafkaForTests, mutations, namesField, propertyParams, serialize, until, type Path, type Schema } from '@el/testing';
import { startEmbeddedApp, type EmbeddedApp } from './testing/embedded-app';

/**
 * Usage on metering.usage.v1 (a real broker): counted once per (source, id)
 * however often it is delivered, and what can never be counted goes to
 * metering.usage.v1.dlq with the reason.
 */
describeWithKafka('metering over Kafka', () => {
  let t: EmbeddedApp;
  let bus: IntegrationEvents;
  const customer = `kafka-${randomUUID().slice(0, 8)}`;
  let sent: string;
  const event = (id: string, quantity: number, feature = 'render_minutes') => ({ id, source: 'urn:app:designer', type: 'io.ledger.usage.v1', subject: customer, time: sent, data: { feature, quantity } });
  const publish = (values: unknown[]) => bus.publish(TOPICS.usage, values.map((v, i) => ({ key: customer, id: `${customer}-${i}-${Math.random()}`, value: v })));
  const used = async (): Promise<number> => (await t.http('GET', `/v1/customers/${customer}/usage`)).body.meters?.find((m: { feature: string }) => m.feature === 'render_minutes')?.used ?? -1;

  const env = { BUS: 'kafka', KAFKA_BROKERS: kafkaForTests.brokers.join(','), KAFKA_TOPIC_PARTITIONS: '2', ENFORCEMENT_INSTANCE_ID: randomUUID(), METERING_USAGE_GROUP: `metering-${randomUUID()}` };

  beforeAll(async () => {
    t = await startEmbeddedApp(env);
    bus = t.app.get<IntegrationEvents>(INTEGRATION_EVENTS);
    expect((await t.http('POST', '/v1/entitlements', { customerId: customer, sku: 'DSG-PRO' })).status).toBe(201);
    sent = new Date().toISOString();
    await until('metering to learn the meters from Kafka', async () => (await t.http('GET', `/v1/customers/${customer}/usage`)).status === 200, { timeoutMs: 60_000, intervalMs: 50 });
  });
  afterAll(() => t?.close());

  it('counts each event once however often it is delivered, and dead-letters what cannot be counted', async () => {
    await publish([event('k-1', 10), event('k-2', 20), event('k-1', 10), event('k-3', 5, 'teleport'), 'not a usage event', event('k-2', 99)]);
    await until('the usage to be counted', async () => (await used()) === 30, { timeoutMs: 30_000, intervalMs: 50 });
    // Delivered again (a producer retry, a replay): nothing changes; a later event shows the first ones were handled.
    await publish([event('k-1', 10), event('k-2', 20), event('k-4', 1)]);
    await until('the sentinel to be counted', async () => (await used()) === 31, { timeoutMs: 30_000, intervalMs: 50 });

    const dead: { code: string; id: string | undefined }[] = [];
    let consumer: RunningConsumer | null = null;
    try {
      consumer = await bus.consume(TOPICS.usageDlq, `dlq-reader-${randomUUID()}`, async (m) => {
        const d = jsonOf<DeadLetterV1>(m);
        if (d.original.key !== customer) return;
        const original = d.original.valueBase64 ? Buffer.from(d.original.valueBase64, 'base64').toString('utf8') : '';
        dead.push({ code: d.reason.code, id: /"id":"([^"]+)"/.exec(original)?.[1] });
      });
      await until('three dead letters', () => dead.length >= 3, { timeoutMs: 30_000, intervalMs: 50 });
    } finally {
      await consumer?.stop();
    }
    expect(dead.sort((a, b) => a.code.localeCompare(b.code))).toEqual([
      { code: 'USAGE.ID_REUSED', id: 'k-2' },
      { code: 'USAGE.UNKNOWN_FEATURE', id: 'k-3' },
      { code: 'VALIDATION_FAILED', id: undefined },
    ]);
    // And the check enforces the usage that came through Kafka.
    expect((await t.http('POST', '/v1/check', { customerId: customer, feature: 'render_minutes', quantity: 570 })).body).toMatchObject({ code: 'USAGE_CAP_REACHED', remaining: 569 });
  });

  it('dead-letters random hostile messages with their reason, counts none of them, and keeps consuming (fast-check)', async () => {
    const kafka = new Kafka({ clientId: 'usage-hostile', brokers: kafkaForTests.brokers, logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    const dlq = kafka.consumer({ groupId: `usage-dlq-${randomUUID()}`, maxWaitTimeInMs: 100 });
    const letters: DeadLetterV1[] = [];
    await producer.connect();
    await dlq.connect();
    await dlq.subscribe({ topic: TOPICS.usageDlq, fromBeginning: true });
    await dlq.run({ eachMessage: async ({ message }) => void letters.push(JSON.parse(message.value!.toString()) as DeadLetterV1) });
    const metering = async () => ((await t.http('GET', '/health')).body as { components: { metering: { usagePosition: number } } }).components.metering.usagePosition;
    type Hostile = { readonly kind: string; readonly key: string | null; readonly value: Buffer | null; readonly path?: Path };
    const bytes = (text: string) => Buffer.from(text, 'utf8');
    const key = fc.option(fc.constant(customer), { nil: null, freq: 3 });
    const hostile: fc.Arbitrary<Hostile> = fc
      .oneof(
        // Broken at any field of the contract's schema (the same mutations as the HTTP fuzz test), in an event that would count.
        { weight: 4, arbitrary: fc.tuple(mutations(usageEventSchemaV1 as unknown as Schema, { base: event('h-base', 1) }), key).map(([m, k]) => ({ kind: `${m.kind} at ${m.path.join('.')}`, key: k, value: bytes(serialize(m.body)), ...(m.naming === 'field' ? { path: m.path } : {}) })) },
        fc.tuple(fc.oneof(fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)), fc.constantFrom('{', '{"id":', '\uFEFF{}', 'null', '[]', '"x"', '{"a":NaN}').map(bytes)), key).map(([value, k]) => ({ kind: 'not a usage event', key: k, value })),
        key.map((k) => ({ kind: 'no value (a tombstone)', key: k, value: null })),
        key.map((k) => ({ kind: 'huge', key: k, value: bytes(JSON.stringify({ ...event('h-huge', 1), pad: 'x'.repeat(400_000) })), path: ['pad'] })),
        // Well-formed, but for a customer or feature the meters do not know.
        key.map((k) => ({ kind: 'unknown customer', key: k, value: bytes(JSON.stringify({ ...event('h-who', 1), subject: `nobody-${customer}` })) })),
        key.map((k) => ({ kind: 'unknown feature', key: k, value: bytes(JSON.stringify(event('h-what', 1, 'teleport'))) })),
      )
      .map((h) => Object.assign(h, { [fc.toStringMethod]: () => `${h.kind}, key ${h.key}: ${h.value === null ? 'null' : JSON.stringify(h.value.toString('utf8').slice(0, 120))}` }));
    let n = 0;
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(hostile, { minLength: 1, maxLength: 8 }), async (messages) => {
          const [usedBefore, positionBefore] = [await used(), await metering()];
          const sent: { m: Hostile; offset: string }[] = [];
          for (const m of messages) {
            const [meta] = await producer.send({ topic: TOPICS.usage, acks: -1, messages: [{ key: m.key, value: m.value, partition: 0 }] });
            sent.push({ m, offset: meta!.baseOffset! });
          }
          await producer.send({ topic: TOPICS.usage, acks: -1, messages: [{ key: customer, value: JSON.stringify(event(`h-good-${n++}`, 1)), partition: 0 }] });
          await until('the good event after the hostile ones', async () => (await used()) === usedBefore + 1, { timeoutMs: 30_000, intervalMs: 50 });
          const letterOf = (offset: string) => letters.filter((d) => d.original.partition === 0 && d.original.offset === offset);
          await until('a dead letter for every hostile message', () => sent.every(({ offset }) => letterOf(offset).length > 0), { timeoutMs: 30_000, intervalMs: 50 });
          const problems: string[] = [];
          for (const { m, offset } of sent) {
            const [d, ...more] = letterOf(offset);
            const where = `${m.kind} (offset ${offset})`;
            if (more.length > 0) problems.push(`${where}: dead-lettered ${more.length + 1} times`);
            if (!d!.reason.code || !d!.reason.message) problems.push(`${where}: no reason`);
            if (d!.original.key !== m.key) problems.push(`${where}: original key ${d!.original.key}, sent ${m.key}`);
            if ((d!.original.valueBase64 === null ? null : Buffer.from(d!.original.valueBase64, 'base64').toString('hex')) !== (m.value?.toString('hex') ?? null)) problems.push(`${where}: the original bytes were not kept`);
            if (m.path && !namesField((d!.reason.errors ?? []).map((e) => e.path), m.path)) problems.push(`${where}: the reason names ${JSON.stringify(d!.reason.errors?.map((e) => e.path))}, not ${m.path.join('.')}`);
          }
          // Recorded since: the good event alone.
          const [usedAfter, positionAfter] = [await used(), await metering()];
          if (usedAfter !== usedBefore + 1 || positionAfter !== positionBefore + 1) problems.push(`usage ${usedBefore} → ${usedAfter}, position ${positionBefore} → ${positionAfter}: more than the good event was recorded`);
          if (problems.length > 0) throw new Error(problems.join('\n'));
        }),
        propertyParams(4),
      );
    } finally {
      await dlq.disconnect();
      await producer.disconnect();
    }
  });

  it('after a restart, usage waits for the meter feed: nothing valid is refused or dead-lettered while the meters are read again', async () => {
    const before = await used();
    await t.close(true);
    // Usage published while the metering service is down (by another producer): read at the next start, before or after the meters.
    const producer = new KafkaIntegrationEvents({ brokers: kafkaForTests.brokers, clientId: 'usage-producer', partitions: 2, log: () => undefined });
    try {
      await producer.publish(TOPICS.usage, [event('r-1', 2), event('r-2', 3)].map((v) => ({ key: customer, id: `${customer}-${v.id}`, value: v })));
    } finally {
      await producer.close();
    }
    t = await startEmbeddedApp(env, t.dataDir);
    bus = t.app.get<IntegrationEvents>(INTEGRATION_EVENTS);
    // Over HTTP: 503 with Retry-After while catching up, never a refusal of a known customer.
    const answers: { status: number; body: any; headers: Record<string, unknown> }[] = [];
    await until('an ingest to be answered (a client retrying on 503)', async () => {
      answers.push(await t.http('POST', '/v1/usage', { events: [event('r-3', 4)] }));
      return answers.at(-1)!.status !== 503;
    }, { timeoutMs: 60_000, intervalMs: 50 });
    for (const a of answers.slice(0, -1)) expect([a.body.code, a.headers['retry-after']]).toEqual(['METERING.CATCHING_UP', '1']);
    expect(answers.at(-1)!.body.results[0]).toMatchObject({ status: 'accepted' });
    await until('the usage sent while down to be counted', async () => (await used()) === before + 9, { timeoutMs: 60_000, intervalMs: 50 });
    expect((await t.http('GET', '/health')).body.components.metering).toMatchObject({ meterFeed: 'caught up' });
  });
});
