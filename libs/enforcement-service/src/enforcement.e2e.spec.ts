import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryCheckpointStore, SqliteEventStore, type EventStore } from '@el/event-store';
import { EntitlementRelay, KafkaIntegrationEvents, type BusConfig } from '@el/messaging';
import { LedgerLog, sampleCatalog } from '@el/event-store/testing';
import { describeWithKafka, kafkaForTests } from '@el/testing';
import { enforcementErrorTable } from './enforcement.errors';
import { startEnforcementApp, type EnforcementTestApp, type EnforcementTestOptions } from './testing/enforcement-test-app';

/** A ledger's event store and whatever carries its changes to the enforcement service. */
interface Fixture {
  readonly dataDir: string;
  readonly store: EventStore;
  readonly log: LedgerLog;
  readonly appOptions: (dataDir?: string) => EnforcementTestOptions;
  cleanup(): Promise<void>;
}

async function inProcessFixture(): Promise<Fixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'el-enf-'));
  const store = SqliteEventStore.open({ path: join(dataDir, 'events.db'), pollIntervalMs: 5 });
  return {
    dataDir,
    store,
    log: new LedgerLog(store),
    // The enforcement view lives with the event store (embedded): a second view means a second data dir for its snapshot.
    appOptions: (snapshotDir) => ({ dataDir, bus: { kind: 'inprocess' }, env: { ...(snapshotDir ? { ENFORCEMENT_DATA_DIR: snapshotDir, ENFORCEMENT_GROUP: `enforcement-${snapshotDir.split('/').pop()}` } : {}) } }),
    async cleanup() {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function kafkaFixture(): Promise<Fixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'el-enf-k-'));
  const store = SqliteEventStore.open({ path: join(dataDir, 'ledger-events.db'), pollIntervalMs: 5 });
  const topic = `ledger.entitlements.v1.enf-${randomUUID()}`;
  const relayBus = new KafkaIntegrationEvents({ brokers: kafkaForTests.brokers, clientId: 'relay', partitions: 3, log: () => undefined });
  const relay = new EntitlementRelay(store, relayBus, new InMemoryCheckpointStore(), { subscriptionId: 'relay', topic });
  await relay.start();
  const bus: BusConfig = { kind: 'kafka', brokers: kafkaForTests.brokers, clientId: 'enforcement', partitions: 3 };
  return {
    dataDir,
    store,
    log: new LedgerLog(store),
    appOptions: (snapshotDir) => ({ dataDir: snapshotDir ?? dataDir, bus, topic }),
    async cleanup() {
      await relay.stop();
      await relayBus.close();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The view's content, comparable across instances. */
function contentOf(app: EnforcementTestApp) {
  const snap = app.view().snapshot(new Date(0));
  return [...snap.entitlements].sort((a, b) => a.entitlementId.localeCompare(b.entitlementId));
}

function suite(name: string, open: () => Promise<Fixture>) {
  describe(`enforcement service (${name})`, () => {
    let fx: Fixture;
    const apps: EnforcementTestApp[] = [];
    const start = async (snapshotDir?: string, env: Record<string, string> = {}) => {
      const options = fx.appOptions(snapshotDir);
      const app = await startEnforcementApp({ ...options, env: { ...options.env, ...env } });
      apps.push(app);
      return app;
    };
    beforeEach(async () => (fx = await open()));
    afterEach(async () => {
      for (const a of apps.splice(0)) await a.close().catch(() => undefined);
      await fx.cleanup();
    });

    it('decides from the view and waits for minPosition (read-your-writes) before answering', async () => {
      // A wait long enough for a cold Kafka consumer on a loaded machine: what is tested is that the answer includes the write.
      const app = await start(undefined, { CHECK_MAX_WAIT_MS: '10000' });
      await fx.log.orderGrant('SO-1', 'acme', 'e1', 'ANL-PRO', 2);
      const granted = await fx.log.entitlement('e1', (m) => ({ type: 'AssignSeat', data: { userId: 'bob' }, metadata: m }));
      const res = await app.post('/v1/check', { customerId: 'acme', feature: 'reports.export', userId: 'bob', minPosition: granted });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ allowed: true, code: 'OK', entitlementId: 'e1', stale: false });
      expect(res.body.position).toBeGreaterThanOrEqual(granted);
      // A suspension, then a check that names its position: never the old answer.
      const suspended = await fx.log.entitlement('e1', (m) => ({ type: 'SuspendEntitlement', data: { reason: 'unpaid invoice' }, metadata: m }));
      const after = await app.post('/v1/check', { customerId: 'acme', feature: 'reports.export', userId: 'bob', minPosition: suspended });
      expect(after.body).toMatchObject({ allowed: false, code: 'SUSPENDED', reason: 'entitlement is suspended: unpaid invoice', stale: false });
    });

    it('answers stale: true when the view cannot reach minPosition within the wait', async () => {
      const app = await start();
      const head = await fx.log.orderGrant('SO-1', 'acme', 'e1', 'ANL-PRO', 1);
      await app.until(head);
      const started = Date.now();
      const res = await app.post('/v1/check', { customerId: 'acme', feature: 'dashboards', minPosition: head + 1000 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(450); // CHECK_MAX_WAIT_MS default 500
      expect(res.body).toMatchObject({ allowed: true, code: 'OK', stale: true, position: head });
    });

    it('decides a batch at one position, in request order, with an upgrade hint and remaining quantities', async () => {
      const app = await start();
      const head = await fx.log.orderGrant('SO-1', 'acme', 'e1', 'ANL-PRO', 1);
      const res = await app.post('/v1/check/batch', {
        minPosition: head,
        checks: [
          { customerId: 'acme', feature: 'projects', quantity: 5 },
          { customerId: 'acme', feature: 'sso' },
          { customerId: 'globex', feature: 'dashboards' },
          { customerId: 'acme', feature: 'dashboards', at: '2020-01-01T00:00:00Z' },
        ],
      });
      expect(res.status).toBe(200);
      expect(res.body.stale).toBe(false);
      expect(res.body.results.map((r: { code: string }) => r.code)).toEqual(['OK', 'FEATURE_NOT_INCLUDED', 'NO_ENTITLEMENT', 'NOT_YET_ACTIVE']);
      expect(res.body.results[0]).toMatchObject({ remaining: 20, expiresAt: expect.any(String) });
      expect(res.body.results[1].upgradeHint).toEqual({ kind: 'plan', sku: 'ANL-ENT', name: 'Analytics Enterprise', productId: 'analytics' });
    });

    it('learns the catalog in force from the ledger: answers carry its version, upgrade hints name its plans (the file\'s until one arrives)', async () => {
      const app = await start();
      const granted = await fx.log.orderGrant('SO-1', 'acme', 'e1', 'ANL-FREE', 1);
      const before = await app.post('/v1/check', { customerId: 'acme', feature: 'sso', minPosition: granted });
      expect(before.body).toMatchObject({ code: 'FEATURE_NOT_INCLUDED', catalogVersion: null, upgradeHint: { sku: 'ANL-ENT', name: 'Analytics Enterprise' } });

      const catalog = sampleCatalog().catalog;
      const renamed = { ...catalog, label: '2027-01', products: catalog.products.map((p) => ({ ...p, plans: p.plans.map((plan) => ({ ...plan, name: `${plan.name} 2027` })) })) };
      await fx.log.publishCatalog(catalog);
      const published = await fx.log.publishCatalog(renamed);
      const after = await app.post('/v1/check', { customerId: 'acme', feature: 'sso', minPosition: published });
      expect(after.body).toMatchObject({ code: 'FEATURE_NOT_INCLUDED', catalogVersion: 2, upgradeHint: { sku: 'ANL-ENT', name: 'Analytics Enterprise 2027' } });
      expect(after.body.position).toBeGreaterThanOrEqual(published);
      const batch = await app.post('/v1/check/batch', { checks: [{ customerId: 'acme', feature: 'sso' }, { customerId: 'nobody', feature: 'sso' }] });
      expect(batch.body).toMatchObject({ catalogVersion: 2, results: [{ upgradeHint: { name: 'Analytics Enterprise 2027' } }, { code: 'NO_ENTITLEMENT', upgradeHint: { name: 'Analytics Enterprise 2027' } }] });
      expect((await app.get('/health')).body.components.enforcementView).toMatchObject({ catalogVersion: 2 });

      // The catalog in force is part of the snapshot: a restart answers with it before reading anything.
      await app.close();
      apps.splice(apps.indexOf(app), 1);
      const restarted = await start();
      expect(restarted.view().catalog).toMatchObject({ version: 2, label: '2027-01', position: published });
    });

    it('walks its error table: every row answers its status through the API', async () => {
      const app = await start();
      const scenarios: Record<keyof typeof enforcementErrorTable, () => Promise<{ status: number; body: any }>> = {
        'ENTITLEMENT.NOT_FOUND': () => app.get('/v1/view/entitlements/not-in-the-view'),
        'CUSTOMER.NOT_FOUND': async () => app.post('/v1/check', { customerId: 'globex', feature: 'dashboards' }, await app.keyFor('customer-user', ['acme'])),
        // A shard holding partition 1 of 3, asked about acme, in partition 0 (tools/distributed sharding.kafka.e2e tests two shards).
        'VIEW.NOT_HELD': async () => (await start(join(fx.dataDir, 'shard'), { VIEW_PARTITIONS: '1' })).post('/v1/check', { customerId: 'acme', feature: 'dashboards' }),
      };
      // One partition in-process: there it is a configuration error at boot, not an answer.
      const sharded = name === 'Kafka';
      if (!sharded) await expect(start(join(fx.dataDir, 'shard'), { VIEW_PARTITIONS: '0' })).rejects.toThrow('VIEW_PARTITIONS: shards the partitions of a Kafka topic');
      for (const [code, status] of Object.entries(enforcementErrorTable).filter(([code]) => sharded || code !== 'VIEW.NOT_HELD')) {
        const res = await scenarios[code as keyof typeof enforcementErrorTable]();
        expect({ code, status: res.status, body: res.body.code }).toEqual({ code, status, body: code });
      }
    });

    it('rejects bad checks with 400 and field paths', async () => {
      const app = await start();
      const res = await app.post('/v1/check', { customerId: 'a b', quantity: 0, extra: 1, at: 'yesterday' });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['at', 'customerId', 'extra', 'feature', 'quantity']);
      const batch = await app.post('/v1/check/batch', { checks: [{ customerId: 'acme', feature: 'x' }, { customerId: 'acme', minPosition: 3 }] });
      expect(batch.status).toBe(400);
      expect(batch.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['checks[1].feature', 'checks[1].minPosition']);
      expect((await app.post('/v1/check', '{"customerId": ')).body.code).toBe('MALFORMED_REQUEST');
      expect((await app.post('/v1/check/batch', { checks: [] })).body.errors[0].path).toBe('checks');
    });

    it('indexes the view by customer, entitlement, user and device', async () => {
      const app = await start();
      await fx.log.orderGrant('SO-1', 'acme', 'e1', 'DSG-PRO', 2);
      await fx.log.entitlement('e1', (m) => ({ type: 'AssignSeat', data: { userId: 'bob' }, metadata: m }));
      await fx.log.entitlement('e1', (m) => ({ type: 'ActivateDevice', data: { deviceId: 'mac-1', userId: 'bob' }, metadata: m }));
      const head = await fx.log.orderGrant('SO-2', 'acme', 'e2', 'ANL-PRO', 1);
      await app.until(head);
      expect((await app.get('/v1/view/customers/acme/entitlements')).body.items.map((e: { entitlementId: string }) => e.entitlementId).sort()).toEqual(['e1', 'e2']);
      expect((await app.get('/v1/view/users/bob/entitlements')).body.items.map((e: { entitlementId: string }) => e.entitlementId)).toEqual(['e1']);
      expect((await app.get('/v1/view/devices/mac-1/entitlements')).body.items).toHaveLength(1);
      expect((await app.get('/v1/view/entitlements/e2')).body).toMatchObject({ planSku: 'ANL-PRO', viewPosition: expect.any(Number) });
      expect((await app.get('/v1/view/entitlements/nope')).status).toBe(404);
      const released = await fx.log.entitlement('e1', (m) => ({ type: 'ReleaseSeat', data: { userId: 'bob' }, metadata: m }));
      await app.until(released);
      expect((await app.get('/v1/view/users/bob/entitlements')).body.items).toEqual([]);
    });

    it('restores from its snapshot after a restart and ends up equal to a view rebuilt from scratch', async () => {
      let app = await start();
      let head = await fx.log.scenario(30);
      await app.until(head);
      const live = contentOf(app);
      expect(live).toHaveLength(30);
      await app.close(); // writes the snapshot
      apps.splice(apps.indexOf(app), 1);

      // Changes land while the service is down.
      for (const i of [0, 1, 4, 5, 6]) head = await fx.log.entitlement(`ent-0000${i}`, (m) => ({ type: 'AssignSeat', data: { userId: `late-${i}` }, metadata: m }));
      head = await fx.log.orderGrant('SO-late', 'cust-late', 'ent-late', 'ANL-ENT', 1);
      app = await start();
      expect(app.view().position).toBeGreaterThan(0); // restored, not replaying from zero
      const restoredChanges = app.view().changes;
      await app.until(head);
      // Only what happened while it was down was read again (plus at most one batch redelivered).
      expect(app.view().changes - restoredChanges).toBeLessThan(live.length);

      const fresh = await start(mkdtempSync(join(fx.dataDir, 'fresh-')));
      await fresh.until(head);
      expect(fresh.view().changes).toBeGreaterThan(live.length); // replayed everything
      expect(contentOf(app)).toEqual(contentOf(fresh));
      expect(contentOf(app)).not.toEqual(live);
      // The second service's admin key is an event too: wait for it before asking for lag 0.
      if (app.store) await app.until(await app.store.headPosition());
      const health = await app.get('/health');
      expect(health.body.components.enforcementView).toMatchObject({ status: 'up', position: expect.any(Number), lag: { messages: 0 } });
    });

    it('rebuilds from the topic when its snapshot is unusable, instead of failing', async () => {
      const head = await fx.log.scenario(6);
      const snapshotDir = mkdtempSync(join(fx.dataDir, 'bad-'));
      writeFileSync(join(snapshotDir, 'enforcement-view.json'), '{"version": 1, "topic": "ledg');
      const app = await start(snapshotDir);
      await app.until(head);
      expect(app.view().size.entitlements).toBe(6);
    });
  });
}

suite('in-process', inProcessFixture);
describeWithKafka('enforcement over Kafka', () => suite('Kafka', kafkaFixture));
