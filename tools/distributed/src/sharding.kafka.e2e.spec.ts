import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { partitionOf } from '@el/contracts';
import { startEnforcementApp, type EnforcementTestApp } from '@el/enforcement-service/testing';
import { InMemoryCheckpointStore, SqliteEventStore } from '@el/event-store';
import { LedgerLog } from '@el/event-store/testing';
import { EntitlementRelay, KafkaIntegrationEvents, type BusConfig } from '@el/messaging';
import { EntitlementClient, EnforcementApiError, shardUrlFor, type EnforcementShards } from '@el/sdk';
import { describeWithKafka, kafkaForTests, until } from '@el/testing';

const PARTITIONS = 3;
const CUSTOMERS = Array.from({ length: 24 }, (_, i) => `shard-cust-${i}`);

/**
 * The enforcement view scaled out: two instances of the service on one ledger.entitlements.v1
 * topic of three partitions, one holding partition 0 and the other 1 and 2 (VIEW_PARTITIONS).
 * The ledger's relay writes the changes (keyed by customer) and watermarks to a real broker.
 */
describeWithKafka('a sharded enforcement view (VIEW_PARTITIONS) on a real broker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'el-shards-'));
  const topic = `ledger.entitlements.v1.shards-${randomUUID()}`;
  const store = SqliteEventStore.open({ path: join(dir, 'ledger-events.db'), pollIntervalMs: 5 });
  const log = new LedgerLog(store);
  const relayBus = new KafkaIntegrationEvents({ brokers: kafkaForTests.brokers, clientId: 'relay', partitions: PARTITIONS, log: () => undefined });
  const relay = new EntitlementRelay(store, relayBus, new InMemoryCheckpointStore(), { subscriptionId: 'relay', topic });
  const bus: BusConfig = { kind: 'kafka', brokers: kafkaForTests.brokers, clientId: 'enforcement', partitions: PARTITIONS };
  const apps: EnforcementTestApp[] = [];
  let shards: EnforcementShards;
  let head = 0;

  const shard = async (name: string, holds: string) => {
    const app = await startEnforcementApp({ dataDir: join(dir, name), bus, topic, env: { VIEW_PARTITIONS: holds, ENFORCEMENT_INSTANCE_ID: `${name}-${randomUUID()}` } });
    apps.push(app);
    await app.app.listen(0, '127.0.0.1');
    return app;
  };

  beforeAll(async () => {
    await relay.start();
    for (const [i, c] of CUSTOMERS.entries()) head = await log.orderGrant(`SO-${i}`, c, `e-${c}`, i % 2 ? 'ANL-PRO' : 'ANL-FREE', 1);
    const a = await shard('a', '0');
    const b = await shard('b', '1-2');
    shards = { partitions: PARTITIONS, instances: [{ url: await a.app.getUrl(), holds: [0] }, { url: await b.app.getUrl(), holds: [1, 2] }] };
    await a.until(head);
    await b.until(head);
  }, 120_000);

  afterAll(async () => {
    for (const app of apps) await app.close().catch(() => undefined);
    await relay.stop();
    await relayBus.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('each instance holds exactly the customers of its partitions, and says so on /health', async () => {
    const [a, b] = apps as [EnforcementTestApp, EnforcementTestApp];
    const inA = CUSTOMERS.filter((c) => partitionOf(c, PARTITIONS) === 0);
    const inB = CUSTOMERS.filter((c) => partitionOf(c, PARTITIONS) !== 0);
    // Both halves are populated: the test means something.
    expect(inA.length).toBeGreaterThan(0);
    expect(inB.length).toBeGreaterThan(0);
    expect(a.view().size.entitlements).toBe(inA.length);
    expect(b.view().size.entitlements).toBe(inB.length);
    for (const c of inA) expect(a.view().ofCustomer(c).map((e) => e.entitlementId)).toEqual([`e-${c}`]);
    for (const c of inB) expect(b.view().ofCustomer(c).map((e) => e.entitlementId)).toEqual([`e-${c}`]);
    // Each at the ledger's head: its position comes from the watermarks of its own partitions.
    expect(a.view().position).toBeGreaterThanOrEqual(head);
    expect(b.view().position).toBeGreaterThanOrEqual(head);
    expect((await a.get('/health')).body.components.enforcementView).toMatchObject({ status: 'up', shard: { holds: [0], partitions: 3 }, entitlements: inA.length });
    expect((await b.get('/health')).body.components.enforcementView).toMatchObject({ status: 'up', shard: { holds: [1, 2], partitions: 3 }, entitlements: inB.length });
  });

  it('answers a check for a customer another instance holds with 421 VIEW.NOT_HELD naming its partition, never NO_ENTITLEMENT', async () => {
    const [a, b] = apps as [EnforcementTestApp, EnforcementTestApp];
    const elsewhere = CUSTOMERS.find((c) => partitionOf(c, PARTITIONS) === 2)!;
    const res = await a.post('/v1/check', { customerId: elsewhere, feature: 'dashboards' });
    expect(res.status).toBe(421);
    expect(res.body).toMatchObject({ code: 'VIEW.NOT_HELD', details: { customerId: elsewhere, partition: 2, holds: [0], partitions: 3 } });
    const batch = await a.post('/v1/check/batch', { checks: [{ customerId: CUSTOMERS.find((c) => partitionOf(c, PARTITIONS) === 0)!, feature: 'dashboards' }, { customerId: elsewhere, feature: 'dashboards' }] });
    expect(batch).toMatchObject({ status: 421, body: { code: 'VIEW.NOT_HELD' } });
    expect((await a.get(`/v1/view/customers/${elsewhere}/entitlements`)).status).toBe(421);
    expect(await b.post('/v1/check', { customerId: elsewhere, feature: 'dashboards' })).toMatchObject({ status: 200, body: { allowed: true, entitlementId: `e-${elsewhere}` } });
  });

  it('the SDK sends each customer\'s checks to the instance holding it: every customer decided, by the right instance', async () => {
    const headers = await apps[0]!.keyFor('admin');
    // The key reaches both instances over the broker.
    await until('the key known to both instances', async () => (await Promise.all(apps.map((app) => app.post('/v1/check', { customerId: 'nobody-yet', feature: 'x' }, headers)))).every((r) => r.status !== 401), { timeoutMs: 30_000 });
    for (const [i, customerId] of CUSTOMERS.entries()) {
      const client = await EntitlementClient.start({ customerId, jwks: { keys: [] }, enforcementShards: shards, headers });
      try {
        const d = await client.checkRemote(i % 2 ? 'sso' : 'dashboards');
        // ANL-FREE has dashboards; ANL-PRO has no SSO (an upgrade hint): decided from the customer's own entitlement either way.
        expect({ customerId, source: d.source, entitlementId: d.entitlementId, stale: d.stale }).toEqual({ customerId, source: 'api', entitlementId: `e-${customerId}`, stale: false });
        expect(d.code).toBe(i % 2 ? 'FEATURE_NOT_INCLUDED' : 'OK');
        expect(d.position).toBeGreaterThanOrEqual(head);
      } finally {
        client.close();
      }
    }
  });

  it('the SDK says which partitions a shard map leaves out, and a wrong map fails loudly (421), not with a denial', async () => {
    expect(() => shardUrlFor('x', { partitions: 3, instances: [{ url: 'http://a', holds: [0, 1] }] })).toThrow('no instance holds partition 2 of 3');
    await expect(EntitlementClient.start({ customerId: 'x', jwks: { keys: [] }, enforcementShards: { partitions: 3, instances: [{ url: 'http://a', holds: [1] }] } })).rejects.toThrow('partitions 0, 2 of 3');
    const headers = await apps[0]!.keyFor('admin');
    await until('the key known to both instances', async () => (await Promise.all(apps.map((app) => app.post('/v1/check', { customerId: 'nobody-yet', feature: 'x' }, headers)))).every((r) => r.status !== 401), { timeoutMs: 30_000 });
    const swapped: EnforcementShards = { partitions: PARTITIONS, instances: [{ url: shards.instances[1]!.url, holds: [0] }, { url: shards.instances[0]!.url, holds: [1, 2] }] };
    const customerId = CUSTOMERS.find((c) => partitionOf(c, PARTITIONS) === 1)!;
    const client = await EntitlementClient.start({ customerId, jwks: { keys: [] }, enforcementShards: swapped, headers });
    try {
      const err = await client.checkRemote('dashboards').then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(EnforcementApiError);
      expect(err).toMatchObject({ status: 421 });
    } finally {
      client.close();
    }
  });
});
