import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { isControlMessage, TOPICS } from '@el/contracts';
import { isEntitlementEvent } from '@el/domain';
import { SqliteEventStore } from '@el/event-store';
import { LedgerLog } from '@el/event-store/testing';
import { describeWithKafka, freePort, kafkaForTests, until } from '@el/testing';

/**
 * The relay runs in the projector process. Killed with SIGKILL while it is
 * publishing, then restarted, it must leave every entitlement change on
 * ledger.entitlements.v1: nothing lost (duplicates allowed, consumers drop them).
 * Its checkpoint is the outbox's progress and lives with the event store: the
 * read models can be dropped and rebuilt without a message published again.
 */
const ROOT = join(__dirname, '..', '..', '..');
const MAIN = join(ROOT, 'dist', 'apps', 'projector', 'src', 'main.js');

function start(env: Record<string, string>): { child: ChildProcess; exited: Promise<NodeJS.Signals | number | null>; output(): string } {
  const child = spawn(process.execPath, [MAIN], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, exited: new Promise((r) => child.on('exit', (code, signal) => r(signal ?? code))), output: () => out };
}

describeWithKafka('relay process', () => {
  let dataDir: string;
  let watcher: Consumer | null = null;
  const children: ChildProcess[] = [];
  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'el-relay-'))));
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await watcher?.disconnect();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('killed mid-stream, resumes from its checkpoint with nothing lost', async () => {
    const store = SqliteEventStore.open({ path: join(dataDir, 'events.db') });
    await new LedgerLog(store).scenario(800, 100);
    const expected = new Set((await store.readAll({ maxCount: 100_000 })).filter(isEntitlementEvent).map((e) => e.id));
    await store.close();

    // Everything on the topic, from any earlier run of this suite too: only this store's ids count.
    const seen: string[] = [];
    const kafka = new Kafka({ clientId: 'relay-test', brokers: kafkaForTests.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    if (!(await admin.listTopics()).includes(TOPICS.entitlements)) await admin.createTopics({ topics: [{ topic: TOPICS.entitlements, numPartitions: 3 }], waitForLeaders: true });
    await admin.disconnect();
    const relayId = `relay-${randomUUID()}`;
    watcher = kafka.consumer({ groupId: `watch-${randomUUID()}`, maxWaitTimeInMs: 100 });
    await watcher.connect();
    await watcher.subscribe({ topic: TOPICS.entitlements, fromBeginning: true });
    await watcher.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        if (!isControlMessage(headers)) seen.push(headers['ce_id']!);
      },
    });
    const mine = () => seen.filter((id) => expected.has(id));

    const env = { DATA_DIR: dataDir, BUS: 'kafka', KAFKA_BROKERS: kafkaForTests.brokers.join(','), KAFKA_TOPIC_PARTITIONS: '3', RELAY_BATCH_SIZE: '50', RELAY_SUBSCRIPTION_ID: relayId };
    const first = start({ ...env, PORT: String(await freePort()) });
    children.push(first.child);
    await until('a fifth of the changes on the topic', () => mine().length >= expected.size * 0.2, { timeoutMs: 120_000, intervalMs: 10 });
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const atKill = new Set(mine()).size;
    expect(atKill).toBeLessThan(expected.size); // it really was mid-stream

    const second = start({ ...env, PORT: String(await freePort()) });
    children.push(second.child);
    await until('every change on the topic', () => new Set(mine()).size >= expected.size, { timeoutMs: 120_000 });
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(new Set(mine())).toEqual(expected);
    // At most the batches in flight at the kill were published twice.
    expect(mine().length - expected.size).toBeLessThanOrEqual(3 * 50);

    // The read models go (a disk swap, a rebuild): the relay's checkpoint does not go with them.
    const published = mine().length;
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(dataDir, `read-models.db${suffix}`), { force: true });
    const port = await freePort();
    const third = start({ ...env, PORT: String(port) });
    children.push(third.child);
    const writer = SqliteEventStore.open({ path: join(dataDir, 'events.db') });
    await new LedgerLog(writer, 'after-drop').orderGrant('SO-after-drop', 'cust-after-drop', 'ent-after-drop', 'ANL-PRO', 1);
    const head = await writer.headPosition();
    const added = (await writer.readAll({ after: head - 5, maxCount: 10 })).filter((e) => e.stream === 'entitlement-ent-after-drop').map((e) => e.id);
    await writer.close();
    await until('the new change on the topic', () => seen.some((id) => added.includes(id)), { timeoutMs: 60_000 });
    // The relay resumed from its own checkpoint: the new change is all it published (its counter, from this process's start).
    const relayed = async () => {
      const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { components: { relay: { position: number }; projector: { position: number } } };
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return { ...health.components, published: Number(/^relay_messages_published_total (\d+)/m.exec(metrics)?.[1] ?? -1) };
    };
    await until('the relay at the head', async () => (await relayed()).relay.position >= head);
    expect((await relayed()).published).toBe(added.length);
    expect(mine().length).toBe(published); // nothing published again
    expect(seen.filter((id) => added.includes(id))).toHaveLength(added.length); // the new change, once
    // Meanwhile the projector rebuilt the read models from the whole log.
    await until('the read models to be rebuilt to the head', async () => (await relayed()).projector.position >= head);
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
  });
});
