import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { TOPICS } from '@el/contracts';
import { isEntitlementEvent } from '@el/domain';
import { SqliteEventStore } from '@el/event-store';
import { LedgerLog } from '@el/event-store/testing';
import { describeWithKafka, freePort, kafkaForTests } from '@el/testing';

/**
 * The relay runs in the projector process. Killed with SIGKILL while it is
 * publishing, then restarted, it must leave every entitlement change on
 * ledger.entitlements.v1: nothing lost (duplicates allowed, consumers drop them).
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
    watcher = kafka.consumer({ groupId: `watch-${randomUUID()}`, maxWaitTimeInMs: 100 });
    await watcher.connect();
    await watcher.subscribe({ topic: TOPICS.entitlements, fromBeginning: true });
    await watcher.run({ eachMessage: async ({ message }) => void seen.push(message.headers!['ce_id']!.toString()) });
    const mine = () => seen.filter((id) => expected.has(id));

    const env = { DATA_DIR: dataDir, BUS: 'kafka', KAFKA_BROKERS: kafkaForTests.brokers.join(','), KAFKA_TOPIC_PARTITIONS: '3', RELAY_BATCH_SIZE: '50', RELAY_SUBSCRIPTION_ID: `relay-${randomUUID()}` };
    const first = start({ ...env, PORT: String(await freePort()) });
    children.push(first.child);
    const deadline = Date.now() + 120_000;
    while (mine().length < expected.size * 0.2) {
      if (Date.now() > deadline) throw new Error(`relay published too little: ${mine().length}\n${first.output()}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const atKill = new Set(mine()).size;
    expect(atKill).toBeLessThan(expected.size); // it really was mid-stream

    const second = start({ ...env, PORT: String(await freePort()) });
    children.push(second.child);
    while (new Set(mine()).size < expected.size) {
      if (Date.now() > deadline) throw new Error(`relay did not finish: ${new Set(mine()).size}/${expected.size}\n${second.output()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(new Set(mine())).toEqual(expected);
    // At most the batches in flight at the kill were published twice.
    expect(mine().length - expected.size).toBeLessThanOrEqual(3 * 50);
  });
});
