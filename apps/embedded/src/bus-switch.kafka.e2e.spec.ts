import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithKafka, kafkaForTests } from '@el/testing';
import { post, start, type Running } from './testing/embedded-process';

interface ViewHealth {
  status: string;
  position: number;
  lag: { messages: number | null };
}

/**
 * One data directory, used with BUS=kafka and then with the default in-process
 * bus (and back): the enforcement view's snapshot was taken from the other
 * bus, so its offsets mean nothing here. The view must rebuild from the feed it
 * reads now: checks with minPosition answer fresh, and /health never reports
 * zero lag while the view is behind the head.
 */
describeWithKafka('switching an installation between Kafka and the in-process bus', () => {
  let dataDir: string;
  const running: Running[] = [];
  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'el-bus-switch-'))));
  afterEach(async () => {
    for (const r of running.splice(0)) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  const run = async (env: Record<string, string>) => {
    const app = await start({ DATA_DIR: dataDir, ...env });
    running.push(app);
    expect(app.output()).toContain('is up');
    return app;
  };
  const stop = async (app: Running) => {
    app.child.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 0, signal: null });
  };
  const order = async (app: Running, customerId: string) => {
    const r = await post(`${app.url}/v1/orders`, { orderId: `SO-${randomUUID().slice(0, 8)}`, customerId, lines: [{ lineId: '1', sku: 'ANL-PRO', quantity: 1, action: 'new' }] });
    expect(r.status).toBe(201);
    return r.body.position as number;
  };
  const check = async (app: Running, customerId: string, minPosition: number) => (await post(`${app.url}/v1/check`, { customerId, feature: 'dashboards', minPosition })).body;
  const view = async (app: Running) => ((await (await app.fetch(`/health`)).json()) as { components: { enforcementView: ViewHealth; eventStore: { head: number } } }).components;

  it('rebuilds the view from the bus it reads now, in both directions', async () => {
    const kafka = { BUS: 'kafka', KAFKA_BROKERS: kafkaForTests.brokers.join(','), KAFKA_TOPIC_PARTITIONS: '3', ENFORCEMENT_INSTANCE_ID: 'switch-test', RELAY_SUBSCRIPTION_ID: `relay-${randomUUID()}`, CHECK_MAX_WAIT_MS: '10000' };
    const first = await run(kafka);
    const p1 = await order(first, 'kafka-era');
    expect(await check(first, 'kafka-era', p1)).toMatchObject({ allowed: true, stale: false });
    await stop(first); // the view's snapshot is written, with Kafka offsets

    const second = await run({ CHECK_MAX_WAIT_MS: '10000' }); // BUS=inprocess
    expect(second.output()).toContain('snapshot unusable');
    const p2 = await order(second, 'inprocess-era');
    // Read-your-writes holds after the switch: both eras are in the view, answered fresh.
    expect(await check(second, 'inprocess-era', p2)).toMatchObject({ allowed: true, stale: false, position: p2 });
    expect(await check(second, 'kafka-era', p2)).toMatchObject({ allowed: true, stale: false });
    const health = await view(second);
    expect(health.enforcementView).toMatchObject({ status: 'up', position: health.eventStore.head, lag: { messages: 0 } });
    await stop(second);

    const third = await run(kafka); // and back to Kafka
    const p3 = await order(third, 'kafka-again');
    expect(await check(third, 'kafka-again', p3)).toMatchObject({ allowed: true, stale: false });
    expect(await check(third, 'inprocess-era', p3)).toMatchObject({ allowed: true, stale: false });
    await stop(third);
  });
});
