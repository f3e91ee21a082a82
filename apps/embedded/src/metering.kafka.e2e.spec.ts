import { randomUUID } from 'node:crypto';
import { TOPICS, type DeadLetterV1 } from '@el/contracts';
import { INTEGRATION_EVENTS, jsonOf, KafkaIntegrationEvents, type IntegrationEvents, type RunningConsumer } from '@el/messaging';
import { describeWithKafka, kafkaForTests, until } from '@el/testing';
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
