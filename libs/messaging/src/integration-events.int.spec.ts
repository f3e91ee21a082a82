import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryCheckpointStore, SqliteEventStore } from '@el/event-store';
import { CATALOG_PUBLISHED_TYPE, WATERMARK_TYPE, type CatalogPublishedV1, type EntitlementEventV1 } from '@el/contracts';
import { LedgerLog, sampleCatalog } from '@el/event-store/testing';
import { Kafka, logLevel } from 'kafkajs';
import { describeWithKafka, freePort, kafkaForTests, repoRoot, until } from '@el/testing';
import { InProcessIntegrationEvents } from './inprocess/in-process-integration-events';
import { jsonOf, typeOf, type IncomingMessage } from './integration-events.port';
import { KafkaIntegrationEvents } from './kafka/kafka-integration-events';
import { EntitlementRelay } from './relay/entitlement-relay';
import { entitlementEventIds, integrationEventsContract, type BusFixture } from './testing/integration-events.contract';

function storeFixture() {
  const dir = mkdtempSync(join(tmpdir(), 'el-bus-'));
  const store = SqliteEventStore.open({ path: join(dir, 'events.db') });
  const log = new LedgerLog(store);
  let n = 0;
  return {
    store,
    async writeHistory(count: number) {
      for (let i = 0; i < count; i++, n++) {
        const id = `ent-${n}`;
        await log.orderGrant(`SO-${n}`, `cust-${n % 4}`, id, 'ANL-PRO', 3);
        await log.entitlement(id, (m) => ({ type: 'AssignSeat', data: { userId: `u-${n}` }, metadata: m }));
        if (n % 3 === 0) await log.entitlement(id, (m) => ({ type: 'SuspendEntitlement', data: { reason: 'unpaid' }, metadata: m }));
      }
    },
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const quiet = () => undefined;

integrationEventsContract('in-process (event store log)', async (): Promise<BusFixture> => {
  const s = storeFixture();
  const topic = `ledger.entitlements.v1.test-${randomUUID()}`;
  const bus = new InProcessIntegrationEvents(s.store, topic);
  return { bus, store: s.store, topic, writeHistory: s.writeHistory, start: async () => undefined, cleanup: async () => (await bus.close(), await s.cleanup()) };
});

describe('in-process bus', () => {
  it('while catching up saves a consumer\'s checkpoint about once a second, not after every page; on stop where it got to, and at the head after every page', async () => {
    const s = storeFixture();
    const topic = `ledger.entitlements.v1.test-${randomUUID()}`;
    const bus = new InProcessIntegrationEvents(s.store, topic);
    try {
      await s.writeHistory(1000);
      const head = await s.store.headPosition();
      const pages = Math.ceil(head / 500);
      expect(pages).toBeGreaterThanOrEqual(4);
      const expected = await entitlementEventIds(s.store);
      const saves = jest.spyOn(s.store.checkpoints, 'save');
      const saved = (position: number) => saves.mock.calls.some(([, p]) => p === position);
      const group = `g-${randomUUID()}`;
      const seen: string[] = [];
      // The first consumer is stopped in the middle of its catch-up, holding a message of its second page.
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const first = await bus.consume(topic, group, async (m) => {
        if (typeOf(m) === WATERMARK_TYPE) return;
        seen.push(m.id!);
        if (seen.length === 400) await held;
      });
      await until('the first consumer in its catch-up', () => seen.length === 400);
      const stopping = first.stop();
      release();
      await stopping;
      const stoppedAt = Number(saves.mock.calls.at(-1)?.[1]);
      expect(stoppedAt).toBeGreaterThan(0);
      expect(stoppedAt).toBeLessThan(head);
      // Another consumer of the group goes on from there: nothing twice, nothing lost.
      const second = await bus.consume(topic, group, async (m) => void (typeOf(m) === WATERMARK_TYPE || seen.push(m.id!)));
      await until('the second consumer at the head', () => saved(head));
      expect(seen).toHaveLength(new Set(seen).size);
      expect(new Set(seen)).toEqual(new Set(expected));
      // Full pages were saved about once a second (this catch-up takes less than that), not after every page.
      expect(saves.mock.calls.length).toBeLessThan(pages);
      // At the head, every page is saved.
      await s.writeHistory(1);
      const live = await s.store.headPosition();
      await until('the live change saved', () => saved(live));
      await second.stop();
    } finally {
      await bus.close();
      await s.cleanup();
    }
  });

  it('saves the checkpoint of a catch-up that ends on a full page (the next read, empty, calls no handler)', async () => {
    const s = storeFixture();
    const topic = `ledger.entitlements.v1.test-${randomUUID()}`;
    const bus = new InProcessIntegrationEvents(s.store, topic);
    try {
      await s.writeHistory(150);
      const pad = (500 - ((await s.store.headPosition()) % 500)) % 500;
      if (pad > 0) await s.store.append('padding', Array.from({ length: pad }, (_, i) => ({ id: randomUUID(), type: 'Padding', data: { i }, metadata: {} })));
      const head = await s.store.headPosition();
      expect(head % 500).toBe(0);
      const saves = jest.spyOn(s.store.checkpoints, 'save');
      const consumer = await bus.consume(topic, `g-${randomUUID()}`, async () => undefined);
      await until('the head saved', () => saves.mock.calls.some(([, position]) => position === head), { timeoutMs: 10_000 });
      await consumer.stop();
    } finally {
      await bus.close();
      await s.cleanup();
    }
  });
});

describeWithKafka('Kafka', () => {
  integrationEventsContract('Kafka (relay + kafkajs)', async (): Promise<BusFixture> => {
    const s = storeFixture();
    const topic = `ledger.entitlements.v1.test-${randomUUID()}`;
    const bus = new KafkaIntegrationEvents({ brokers: kafkaForTests.brokers, clientId: 'contract', partitions: 3, log: quiet });
    const relay = new EntitlementRelay(s.store, bus, new InMemoryCheckpointStore(), { subscriptionId: 'relay', topic });
    return {
      bus,
      store: s.store,
      topic,
      writeHistory: s.writeHistory,
      start: () => relay.start(),
      cleanup: async () => {
        await relay.stop();
        await bus.close();
        await s.cleanup();
      },
    };
  });

  it('drops the duplicates a relay restarted from an old checkpoint publishes', async () => {
    const s = storeFixture();
    const topic = `ledger.entitlements.v1.test-${randomUUID()}`;
    const bus = new KafkaIntegrationEvents({ brokers: kafkaForTests.brokers, clientId: 'dupes', partitions: 3, log: quiet });
    const checkpoints = new InMemoryCheckpointStore();
    try {
      await s.writeHistory(8);
      let relay = new EntitlementRelay(s.store, bus, checkpoints, { subscriptionId: 'relay', topic });
      await relay.start();
      const all: string[] = [];
      const deduped: string[] = [];
      const sentinels = new Set<string>();
      const isChange = (m: IncomingMessage) => typeOf(m) !== WATERMARK_TYPE && m.key !== 'sentinel';
      const raw = await bus.consume(topic, `raw-${randomUUID()}`, async (m) => void (isChange(m) && all.push(m.id!)), { dedupe: false });
      const clean = await bus.consume(topic, `clean-${randomUUID()}`, async (m) => {
        if (m.key === 'sentinel') sentinels.add(m.id!);
        else if (isChange(m)) deduped.push(m.id!);
      });
      const total = (await s.store.readAll({ maxCount: 10_000 })).filter((e) => e.stream.startsWith('entitlement-')).length;
      await until('every change, once per consumer', () => all.length >= total && deduped.length >= total);
      // The relay crashed after publishing but before checkpointing: it starts over.
      await relay.stop();
      await checkpoints.save('relay', 0);
      relay = new EntitlementRelay(s.store, bus, checkpoints, { subscriptionId: 'relay', topic });
      await relay.start();
      await until('the republished changes', () => all.length >= 2 * total);
      // One new message behind the duplicates on every partition: once the deduplicating consumer has it, it has seen them all.
      const partitions = await bus.partitionsOf(topic);
      await bus.publish(topic, Array.from({ length: partitions }, (_, partition) => ({ key: 'sentinel', id: `sentinel-${partition}-${randomUUID()}`, value: {}, partition })));
      await until('the sentinel on every partition', () => sentinels.size === partitions);
      await relay.stop();
      await raw.stop();
      await clean.stop();
      expect(all).toHaveLength(2 * total); // the duplicates did reach the topic
      expect(deduped).toHaveLength(total); // and were dropped by id
      expect(new Set(deduped).size).toBe(total);
    } finally {
      await bus.close();
      await s.cleanup();
    }
  });

  it('a relay that resumes past the catalog in force announces it again on every partition', async () => {
    const s = storeFixture();
    const topic = `ledger.entitlements.v1.test-${randomUUID()}`;
    const bus = new KafkaIntegrationEvents({ brokers: kafkaForTests.brokers, clientId: 'announce', partitions: 3, log: quiet });
    try {
      const log = new LedgerLog(s.store, 'catalog');
      await log.publishCatalog();
      const v2 = await log.publishCatalog({ ...sampleCatalog().catalog, label: 'v2' });
      await s.writeHistory(2);
      // Everything was relayed before (by a relay that did not publish catalog versions yet).
      const checkpoints = new InMemoryCheckpointStore();
      await checkpoints.save('relay', await s.store.headPosition());
      const relay = new EntitlementRelay(s.store, bus, checkpoints, { subscriptionId: 'relay', topic });
      await relay.start();
      const got: { partition: number; value: CatalogPublishedV1 }[] = [];
      const c = await bus.consume(topic, `g-${randomUUID()}`, async (m) => void (typeOf(m) === CATALOG_PUBLISHED_TYPE && got.push({ partition: m.partition, value: jsonOf(m) })));
      await until('the catalog on every partition', () => got.length >= 3);
      await c.stop();
      await relay.stop();
      expect(got.map((g) => [g.partition, g.value.data.version, g.value.position, g.value.data.label]).sort()).toEqual([
        [0, 2, v2, 'v2'],
        [1, 2, v2, 'v2'],
        [2, 2, v2, 'v2'],
      ]);
    } finally {
      await bus.close();
      await s.cleanup();
    }
  });

  it('with ordered: false, handles messages of one key at once (and every one of them)', async () => {
    const bus = new KafkaIntegrationEvents({ brokers: kafkaForTests.brokers, clientId: 'unordered', partitions: 1, log: quiet });
    const topic = `unordered-${randomUUID()}`;
    try {
      await bus.ensureTopics([topic]);
      await bus.publish(topic, Array.from({ length: 40 }, (_, i) => ({ key: 'one-customer', id: `m-${i}`, value: { i } })));
      const run = async (ordered: boolean) => {
        const got = new Set<string>();
        let active = 0;
        let maxActive = 0;
        const consumer = await bus.consume(
          topic,
          `g-${randomUUID()}`,
          async (m) => {
            active += 1;
            maxActive = Math.max(maxActive, active);
            await new Promise((r) => setTimeout(r, 2));
            got.add(m.id!);
            active -= 1;
          },
          { concurrency: 8, ordered },
        );
        await until('every message', () => got.size === 40);
        await consumer.stop();
        return maxActive;
      };
      expect(await run(true)).toBe(1);
      expect(await run(false)).toBeGreaterThan(1);
    } finally {
      await bus.close();
    }
  });

  it('publishes CloudEvents with the full state, readable by any Kafka client', async () => {
    const s = storeFixture();
    const topic = `ledger.entitlements.v1.test-${randomUUID()}`;
    const bus = new KafkaIntegrationEvents({ brokers: kafkaForTests.brokers, clientId: 'shape', partitions: 3, log: quiet });
    try {
      await s.writeHistory(1);
      const relay = new EntitlementRelay(s.store, bus, new InMemoryCheckpointStore(), { subscriptionId: 'relay', topic });
      await relay.start();
      const got: EntitlementEventV1[] = [];
      const c = await bus.consume(topic, `g-${randomUUID()}`, async (m) => void (typeOf(m) !== WATERMARK_TYPE && got.push(jsonOf(m))));
      await until('three changes', () => got.length >= 3);
      await c.stop();
      await relay.stop();
      expect(got.map((e) => e.type)).toEqual(['io.ledger.entitlement.granted.v1', 'io.ledger.entitlement.seat_assigned.v1', 'io.ledger.entitlement.suspended.v1']);
      expect(got[2]!.data.entitlement).toMatchObject({ status: 'suspended', statusReason: 'unpaid', assignedUsers: ['u-0'] });
      expect(got[1]).toMatchObject({ specversion: '1.0', subject: 'ent-0', customerid: 'cust-0', data: { entitlement: { seats: 3, assignedUsers: ['u-0'], revision: 1 }, change: { userId: 'u-0' } } });
      expect(got[1]!.position).toBeGreaterThan(got[0]!.position);
    } finally {
      await bus.close();
      await s.cleanup();
    }
  });

  it('with a topic prefix, keeps to its own topics: another installation on the same broker neither sees its messages nor is seen', async () => {
    const mine = `inst-${randomUUID().slice(0, 8)}.`;
    const theirs = `inst-${randomUUID().slice(0, 8)}.`;
    const a = new KafkaIntegrationEvents({ brokers: kafkaForTests.brokers, clientId: 'prefix-a', partitions: 2, topicPrefix: mine, log: quiet });
    const b = new KafkaIntegrationEvents({ brokers: kafkaForTests.brokers, clientId: 'prefix-b', partitions: 2, topicPrefix: theirs, log: quiet });
    const admin = new Kafka({ brokers: kafkaForTests.brokers, logLevel: logLevel.NOTHING }).admin();
    try {
      const topic = 'ledger.entitlements.v1';
      await a.ensureTopics([topic]);
      await b.ensureTopics([topic]);
      await admin.connect();
      const names = await admin.listTopics();
      expect(names).toEqual(expect.arrayContaining([`${mine}${topic}`, `${theirs}${topic}`]));
      await a.publish(topic, [{ key: 'k', id: 'mine-1', value: { n: 1 } }]);
      await b.publish(topic, [{ key: 'k', id: 'theirs-1', value: { n: 2 } }, { key: 'k', id: 'theirs-2', value: { n: 3 } }]);
      const seen: IncomingMessage[] = [];
      const c = await a.consume(topic, `g-${randomUUID()}`, async (m) => void seen.push(m));
      await until('its own message', () => seen.length >= 1);
      await c.stop();
      // Its own only; named as the code names the topic.
      expect(seen.map((m) => [m.id, m.topic])).toEqual([['mine-1', topic]]);
      expect(Object.values(await a.endOffsets(topic)).reduce((n, o) => n + Number(o), 0)).toBe(1);
      expect(Object.values(await b.endOffsets(topic)).reduce((n, o) => n + Number(o), 0)).toBe(2);
      expect(await a.offsetScope(topic)).not.toEqual(await b.offsetScope(topic));
    } finally {
      await admin.disconnect();
      await a.close();
      await b.close();
    }
  });

  it('measures the brokers for health: up with a round trip while they answer, down (within a second) at an address where none does', async () => {
    const live = new KafkaIntegrationEvents({ brokers: kafkaForTests.brokers, clientId: 'health-up', partitions: 1, log: quiet });
    const gone = new KafkaIntegrationEvents({ brokers: [`127.0.0.1:${await freePort()}`], clientId: 'health-down', partitions: 1, log: quiet });
    try {
      expect(await live.health()).toMatchObject({ status: 'up', kind: 'kafka', rttMs: expect.any(Number), brokersInCluster: 1 });
      const started = performance.now();
      const down = await gone.health();
      expect(down).toMatchObject({ status: 'down', error: expect.stringContaining('the brokers do not answer') });
      expect(performance.now() - started).toBeLessThan(1_000);
    } finally {
      await live.close();
      await gone.close();
    }
  });

  it('a restarted process (same client id) removes the member its killed predecessor left in the group, so it does not wait out that session', async () => {
    const topic = `removal-${randomUUID()}`;
    const group = `g-${randomUUID()}`;
    const clientId = `instance-${randomUUID().slice(0, 8)}`;
    const admin = new Kafka({ brokers: kafkaForTests.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    // The predecessor: a process that joined, then was killed with SIGKILL (it never left the group).
    const setup = new KafkaIntegrationEvents({ brokers: kafkaForTests.brokers, clientId: 'setup', partitions: 1, log: quiet });
    const successor = new KafkaIntegrationEvents({ brokers: kafkaForTests.brokers, clientId, partitions: 1, log: quiet });
    const script = `const { Kafka, logLevel } = require('kafkajs');
      const c = new Kafka({ clientId: ${JSON.stringify(clientId)}, brokers: ${JSON.stringify(kafkaForTests.brokers)}, logLevel: logLevel.NOTHING }).consumer({ groupId: ${JSON.stringify(group)}, sessionTimeout: 60000 });
      c.on(c.events.GROUP_JOIN, () => console.log('joined'));
      c.connect().then(() => c.subscribe({ topic: ${JSON.stringify(topic)}, fromBeginning: true })).then(() => c.run({ eachMessage: async () => undefined }));`;
    let child: ReturnType<typeof spawn> | undefined;
    try {
      // The topic first: a predecessor that subscribed before it existed failed its metadata request and never joined.
      await setup.ensureTopics([topic]);
      child = spawn(process.execPath, ['-e', script], { cwd: repoRoot(__dirname), stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      await until('the predecessor to join', () => out.includes('joined'), { timeoutMs: 30_000 });
      const stale = (await admin.describeGroups([group])).groups[0]!.members.map((m) => m.memberId);
      expect(stale).toHaveLength(1);
      child.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));
      // The broker still counts it a member (for its 60 s session).
      expect((await admin.describeGroups([group])).groups[0]!.members.map((m) => m.memberId)).toEqual(stale);

      const got: string[] = [];
      await setup.publish(topic, [{ key: 'k', id: 'after-restart', value: {} }]);
      const joining = performance.now();
      const c = await successor.consume(topic, group, async (m) => void got.push(m.id!));
      await until('the successor to consume', () => got.length === 1, { timeoutMs: 60_000 });
      // Not after the predecessor's 60 s session: the successor removed it when it joined.
      expect(performance.now() - joining).toBeLessThan(20_000);
      const members = (await admin.describeGroups([group])).groups[0]!.members.map((m) => m.memberId);
      expect(members).not.toContain(stale[0]);
      expect(members).toHaveLength(1);
      await c.stop();
    } finally {
      child?.kill('SIGKILL');
      await admin.disconnect();
      await setup.close();
      await successor.close();
    }
  });

  it('publishes more than the broker takes in one record batch (1 MiB) to one partition, in order', async () => {
    const bus = new KafkaIntegrationEvents({ brokers: kafkaForTests.brokers, clientId: 'large', partitions: 1, log: quiet });
    const topic = `large-${randomUUID()}`;
    try {
      await bus.ensureTopics([topic], { log: true });
      // 3 MB in one publish call, as a relay batch of large events is: one partition, so one record batch unless split.
      const payload = 'x'.repeat(3000);
      await bus.publish(topic, Array.from({ length: 1000 }, (_, n) => ({ key: 'k', id: `m-${n}`, value: { n, payload } })));
      const got: number[] = [];
      const c = await bus.consume(topic, `g-${randomUUID()}`, async (m) => void got.push(jsonOf<{ n: number }>(m).n));
      await until('every message', () => got.length >= 1000);
      await c.stop();
      expect(got).toEqual(Array.from({ length: 1000 }, (_, n) => n));
    } finally {
      await bus.close();
    }
  });
});
