import { EventStoreModule, eventStoreConfigSpec } from '@el/event-store';
import { Module, type DynamicModule } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiKeyMessageV1, TOPICS } from '@el/contracts';
import { EnforcementModule, EnforcementViewRunner, enforcementConfigSpec, enforcementErrorTable } from '@el/enforcement-service';
import { InMemoryCheckpointStore, SqliteEventStore, type EventStore } from '@el/event-store';
import { LedgerLog } from '@el/event-store/testing';
import { API_KEY_DIRECTORY, identityConfigSpec, IdentityModule, newApiKey, type ApiKeyDirectory } from '@el/identity';
import { connectBus, EntitlementRelay, KafkaIntegrationEvents, MessagingModule, type BusConfig } from '@el/messaging';
import { MeterRegistry, meteringConfigSpec, meteringErrorTable, MeteringModule, UsageCountersPublisher } from '@el/metering-service';
import { Clock, configReader, configureHttpApp, fastifyAdapter, PlatformModule } from '@el/platform';
import { describeWithKafka, kafkaForTests, postgresBackend, repoRoot, until, type TestReadDb } from '@el/testing';

const ROOT = repoRoot(__dirname);

/** The ledger's log is written at 2026-01-01 (LedgerLog's clock): both services decide at noon that day. */
const NOON = '2026-01-01T12:00:00.000Z';
class FixedClock extends Clock {
  now(): Date {
    return new Date(NOON);
  }
}

interface Service {
  readonly app: NestFastifyApplication;
  post(url: string, body: unknown): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/** A service module through its real HTTP pipeline (Fastify inject), its bus transport started, every request with `auth`. */
async function serve(root: DynamicModule['module'], auth: () => Record<string, string>): Promise<Service> {
  const moduleRef = await Test.createTestingModule({ imports: [root] })
    .overrideProvider(Clock)
    .useValue(new FixedClock())
    .compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(fastifyAdapter(), { logger: false });
  configureHttpApp(app, { title: 'test', description: 'test', version: 'test' });
  connectBus(app);
  await app.init();
  await app.startAllMicroservices();
  await app.getHttpAdapter().getInstance().ready();
  return {
    app,
    async post(url, body) {
      const res = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...auth() }, payload: JSON.stringify(body) });
      return { status: res.statusCode, body: JSON.parse(res.body) };
    },
    close: () => app.close(),
  };
}

/**
 * Metering and enforcement as separate services (two applications, each with
 * its own Kafka clients; metering on PostgreSQL): usage ingested by one reaches
 * the other's checks only through metering.counters.v1, and a check passing
 * the ingest's position as minUsagePosition sees it.
 */
describeWithKafka('usage counters from the metering service to a separate enforcement service', () => {
  const run = randomUUID().slice(0, 8);
  const entitlementsTopic = `ledger.entitlements.v1.counters-${run}`;
  const apiKeysTopic = `ledger.api-keys.v1.counters-${run}`;
  const hard = { customer: `hard-${run}`, entitlement: `e-hard-${run}` };
  const soft = { customer: `soft-${run}`, entitlement: `e-soft-${run}` };
  const dataDir = mkdtempSync(join(tmpdir(), 'el-counters-'));
  const kafka: BusConfig = { kind: 'kafka', brokers: kafkaForTests.brokers, clientId: `counters-${run}`, partitions: 3 };
  const admin = newApiKey();
  const auth = () => ({ authorization: `Bearer ${admin.key}` });
  let store: EventStore;
  let relayBus: KafkaIntegrationEvents;
  let relay: EntitlementRelay;
  let db: TestReadDb;
  const services: Service[] = [];

  const startMetering = async (): Promise<Service> => {
    const config = configReader(meteringConfigSpec)({ METERING_DB: 'postgres', METERING_DB_URL: db.kind === 'postgres' ? db.url : '', METERING_USAGE_GROUP: `metering-${run}` });
    @Module({
      imports: [
        PlatformModule.forRoot({ serviceName: 'metering-test', logLevel: 'silent', errorTable: meteringErrorTable }),
        MessagingModule.forRoot(kafka),
        IdentityModule.forRoot(configReader(identityConfigSpec)({}), { keys: { from: 'topic', group: `metering-keys-${randomUUID()}`, topic: apiKeysTopic } }),
        // Corrections and period closes are recorded in the event store (a SQLite file here).
        EventStoreModule.forRoot(configReader(eventStoreConfigSpec)({ EVENT_STORE: 'sqlite', DATA_DIR: join(dataDir, `metering-events-${randomUUID()}`) })),
        MeteringModule.register(config, dataDir, { entitlementsTopic }),
      ],
    })
    class MeteringRoot {}
    const s = await serve(MeteringRoot, auth);
    services.push(s);
    return s;
  };

  const startEnforcement = async (): Promise<Service> => {
    const instance = randomUUID();
    const config = configReader(enforcementConfigSpec)({
      CATALOG_PATH: join(ROOT, 'catalog', 'sample-catalog.yaml'),
      ENFORCEMENT_DATA_DIR: join(dataDir, `enforcement-${instance}`),
      ENFORCEMENT_SNAPSHOT_INTERVAL_MS: '0',
      ENFORCEMENT_INSTANCE_ID: instance,
      // The bound of a wait; answered as soon as reached (room for a loaded CI machine).
      CHECK_MAX_WAIT_MS: '3000',
    });
    @Module({
      imports: [
        PlatformModule.forRoot({ serviceName: 'enforcement-test', logLevel: 'silent', errorTable: enforcementErrorTable }),
        MessagingModule.forRoot(kafka),
        IdentityModule.forRoot(configReader(identityConfigSpec)({}), { keys: { from: 'topic', group: `${instance}-keys`, topic: apiKeysTopic } }),
        EnforcementModule.register(config, { topic: entitlementsTopic, usage: 'counters-topic' }),
      ],
    })
    class EnforcementRoot {}
    const s = await serve(EnforcementRoot, auth);
    services.push(s);
    return s;
  };

  /** Both entitlements and the admin key known to the service. */
  const ready = async (s: Service, knows: (id: string) => boolean) => {
    await until('the service to learn the entitlements', () => knows(hard.entitlement) && knows(soft.entitlement), { timeoutMs: 60_000 });
    await until('the service to accept the admin key', () => s.app.get<ApiKeyDirectory>(API_KEY_DIRECTORY).get(admin.keyId) !== undefined, { timeoutMs: 60_000 });
  };

  const usage = (customer: string, id: string, quantity: number) => ({ id, source: 'urn:app:designer', type: 'io.ledger.usage.v1', subject: customer, time: '2026-01-01T11:00:00.000Z', data: { feature: 'render_minutes', quantity } });

  beforeAll(async () => {
    if (postgresBackend.unavailable) throw new Error(`PostgreSQL is needed: ${postgresBackend.unavailable}`);
    db = await postgresBackend.create();
    // The ledger's side: its log, relayed to a topic of this test's own.
    store = SqliteEventStore.open({ path: join(dataDir, 'events.db'), pollIntervalMs: 5 });
    const log = new LedgerLog(store);
    await log.orderGrant(`SO-${hard.customer}`, hard.customer, hard.entitlement, 'DSG-PRO', 1); // render_minutes: 600 a month, hard
    await log.orderGrant(`SO-${soft.customer}`, soft.customer, soft.entitlement, 'DSG-ENT', 1); // render_minutes: 6000 a month, soft
    relayBus = new KafkaIntegrationEvents({ brokers: kafkaForTests.brokers, clientId: 'relay', partitions: 3, log: () => undefined });
    relay = new EntitlementRelay(store, relayBus, new InMemoryCheckpointStore(), { subscriptionId: 'relay', topic: entitlementsTopic });
    await relay.start();
    await relayBus.ensureTopics([apiKeysTopic]);
    await relayBus.publish(apiKeysTopic, [
      apiKeyMessageV1(`key-${admin.keyId}`, { type: 'created', keyId: admin.keyId, name: 'admin', role: 'admin', customers: null, secretSha256: admin.secretSha256, createdAt: NOON, createdBy: 'test', position: 0 }),
    ]);
  });

  afterAll(async () => {
    for (const s of services.splice(0).reverse()) await s.close().catch(() => undefined);
    await relay?.stop();
    await relayBus?.close();
    await store?.close();
    await db?.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('denies a hard cap and bills a soft one in the other service once the ingest position is reached, a new enforcement process reads the same from the compacted topic, and usage redelivered on Kafka is counted once in PostgreSQL', async () => {
    const metering = await startMetering();
    const enforcement = await startEnforcement();
    await ready(metering, (id) => metering.app.get(MeterRegistry).get(id) !== undefined);
    await ready(enforcement, (id) => enforcement.app.get(EnforcementViewRunner).view.entitlement(id) !== undefined);

    // Hard cap: 600 render minutes used of 600.
    const hardIngest = await metering.post('/v1/usage', { events: [usage(hard.customer, 'h-1', 450), usage(hard.customer, 'h-2', 150)] });
    expect(hardIngest.body).toMatchObject({ accepted: 2, rejected: 0 });
    expect(hardIngest.body.position).toBe(Math.max(...hardIngest.body.results.map((r: { position: number }) => r.position)));
    const denied = await enforcement.post('/v1/check', { customerId: hard.customer, feature: 'render_minutes', minUsagePosition: hardIngest.body.position });
    expect(denied.body).toMatchObject({ allowed: false, code: 'USAGE_CAP_REACHED', entitlementId: hard.entitlement, remaining: 0, stale: false });

    // Soft cap: 6001 of 6000 — allowed, billed as overage.
    const softIngest = await metering.post('/v1/usage', { events: [usage(soft.customer, 's-1', 6001)] });
    expect(softIngest.body).toMatchObject({ accepted: 1 });
    const overage = await enforcement.post('/v1/check', { customerId: soft.customer, feature: 'render_minutes', minUsagePosition: softIngest.body.position });
    expect(overage.body).toMatchObject({ allowed: true, code: 'OVERAGE', entitlementId: soft.entitlement, stale: false });

    // A batch waits per check for its own customer's position.
    const batch = await enforcement.post('/v1/check/batch', {
      checks: [
        { customerId: hard.customer, feature: 'render_minutes', minUsagePosition: hardIngest.body.position },
        { customerId: soft.customer, feature: 'render_minutes', minUsagePosition: softIngest.body.position },
      ],
    });
    expect(batch.body).toMatchObject({ stale: false, results: [{ code: 'USAGE_CAP_REACHED', remaining: 0 }, { code: 'OVERAGE' }] });

    // The hard-capped customer's position is not the soft one's: waited for in vain, the answer says stale.
    const notYet = await enforcement.post('/v1/check', { customerId: hard.customer, feature: 'render_minutes', minUsagePosition: softIngest.body.position });
    expect(notYet.body).toMatchObject({ code: 'USAGE_CAP_REACHED', stale: true });

    // A new enforcement process reads every customer's counters from the beginning of the compacted topic.
    const second = await startEnforcement();
    await ready(second, (id) => second.app.get(EnforcementViewRunner).view.entitlement(id) !== undefined);
    const fresh = await second.post('/v1/check', { customerId: hard.customer, feature: 'render_minutes', minUsagePosition: hardIngest.body.position });
    expect(fresh.body).toMatchObject({ code: 'USAGE_CAP_REACHED', remaining: 0, stale: false });

    // A metering process started on the same store publishes every customer again as it learns their entitlements
    // (nothing committed is lost if a process died before publishing).
    await metering.close();
    services.splice(services.indexOf(metering), 1);
    const restarted = await startMetering();
    const publisher = restarted.app.get(UsageCountersPublisher);
    await until('the restarted metering service to republish both customers', async () => {
      await publisher.drained();
      return restarted.app.get(MeterRegistry).size >= 2 && publisher.pending === 0 && (await metricValue(restarted, 'metering_counters_published_total')) >= 2;
    }, { timeoutMs: 60_000 });
    // Usage over Kafka into PostgreSQL: delivered twice (a producer retry, a replay), counted once; an HTTP resend too.
    const soft1 = { ...usage(soft.customer, 'k-1', 7) };
    const soft2 = { ...usage(soft.customer, 'k-2', 3) };
    const sendOnKafka = (events: unknown[]) => relayBus.publish(TOPICS.usage, events.map((v, i) => ({ key: soft.customer, id: `${run}-${i}-${Math.random()}`, value: v })));
    const used = async () => {
      const res = await restarted.app.inject({ method: 'GET', url: `/v1/customers/${soft.customer}/usage?period=2026-01-01T11:00:00.000Z`, headers: auth() });
      return (JSON.parse(res.body) as { meters: { feature: string; used: number }[] }).meters.find((m) => m.feature === 'render_minutes')!.used;
    };
    await sendOnKafka([soft1, soft2, soft1]);
    await until('the Kafka usage to be counted', async () => (await used()) === 6011, { timeoutMs: 60_000 });
    await sendOnKafka([soft2, soft1, usage(soft.customer, 'k-3', 1)]);
    expect((await restarted.post('/v1/usage', { events: [soft1, usage(soft.customer, 's-1', 6001)] })).body).toMatchObject({ accepted: 0, duplicates: 2 });
    await until('the sentinel to be counted', async () => (await used()) === 6012, { timeoutMs: 60_000 });
  });
});

async function metricValue(s: Service, name: string): Promise<number> {
  const res = await s.app.inject({ method: 'GET', url: '/metrics' });
  const line = res.body.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}
