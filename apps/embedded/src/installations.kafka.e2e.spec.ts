import { randomUUID } from 'node:crypto';
import { describeWithKafka, kafkaForTests, until } from '@el/testing';
import { startEmbeddedApp, type EmbeddedApp } from './testing/embedded-app';

/**
 * Two installations (two event stores) on one Kafka cluster with the same topic
 * names — a mistake KAFKA_TOPIC_PREFIX prevents, but one a view must survive:
 * every message carries its installation, and a view reads its own only, so
 * another installation's watermarks never become its position.
 */
describeWithKafka('installations sharing a Kafka cluster', () => {
  const apps: EmbeddedApp[] = [];
  const common = { BUS: 'kafka', KAFKA_BROKERS: kafkaForTests.brokers.join(','), KAFKA_TOPIC_PARTITIONS: '2', CHECK_MAX_WAIT_MS: '10000' };
  afterAll(async () => {
    for (const a of apps) await a.close();
  });

  it("a view never takes another installation's messages for its own: its position stays within its own log", async () => {
    const tag = randomUUID().slice(0, 8);
    const a = await startEmbeddedApp({ ...common, ENFORCEMENT_INSTANCE_ID: `a-${tag}` });
    apps.push(a);
    let last = 0;
    for (let i = 0; i < 15; i++) {
      const r = await a.http('POST', '/v1/entitlements', { customerId: `a-${tag}-${i}`, sku: 'ANL-PRO' });
      expect(r.status).toBe(201);
      last = r.body.position;
    }
    // Installation A's changes and watermarks are on the topic.
    expect((await a.http('POST', '/v1/check', { customerId: `a-${tag}-14`, feature: 'reports.export', minPosition: last })).body).toMatchObject({ allowed: true });

    // Installation B: a new event store, the same broker and topics.
    const b = await startEmbeddedApp({ ...common, ENFORCEMENT_INSTANCE_ID: `b-${tag}` });
    apps.push(b);
    const grant = await b.http('POST', '/v1/entitlements', { customerId: `b-${tag}`, sku: 'ANL-PRO' });
    expect(grant.status).toBe(201);
    const bCheck = await b.http('POST', '/v1/check', { customerId: `b-${tag}`, feature: 'reports.export', minPosition: grant.body.position });
    expect({ body: bCheck.body, health: bCheck.body.allowed ? null : (await b.http('GET', '/health')).body.components.enforcementView }).toMatchObject({ body: { allowed: true }, health: null });

    const health = (await b.http('GET', '/health')).body.components;
    const aInstallation = (await a.http('GET', '/health')).body.components.bus.installation as string;
    expect(health.bus.installation).toEqual(expect.any(String));
    expect(health.bus.installation).not.toEqual(aInstallation);
    // B's view is at B's head, not at A's higher positions.
    expect(health.enforcementView.position).toBeLessThanOrEqual(health.eventStore.head);
    expect(health.enforcementView.position).toBeLessThan(last);
    expect(health.enforcementView).toMatchObject({ status: 'up', installation: { reads: health.bus.installation, from: 'event store', others: { [aInstallation]: { skippedMessages: expect.any(Number) } } } });
    expect(health.enforcementView.installation.others[aInstallation].skippedMessages).toBeGreaterThan(15);
    // And it holds none of A's entitlements.
    await until('B to have read what A published', async () => (await b.http('GET', '/health')).body.components.enforcementView.lag.messages === 0, { timeoutMs: 30_000, intervalMs: 100 });
    expect((await b.http('GET', `/v1/view/customers/a-${tag}-0/entitlements`)).body.items).toEqual([]);
    expect((await b.http('POST', '/v1/check', { customerId: `a-${tag}-0`, feature: 'reports.export' })).body).toMatchObject({ allowed: false });
  });
});
