import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryCheckpointStore, SqliteEventStore } from '@el/event-store';
import { EntitlementRelay, KafkaIntegrationEvents } from '@el/messaging';
import { describeWithKafka, kafkaForTests, until } from '@el/testing';
import { StoreApiKeys, TopicApiKeys } from './api-key-directory';
import { CredentialAuthenticator } from './credential-authenticator';

const meta = () => ({ now: new Date().toISOString(), correlationId: 'c', causationId: 'c', actor: { type: 'operator' as const, id: 'key:admin' }, source: 'api' as const });
const quiet = () => undefined;

/**
 * A service without the event store (the enforcement service on Kafka) learns
 * API keys from ledger.api-keys.v1, which the relay publishes: a key created in
 * the ledger is accepted there, and a revoked one refused, within the relay's lag.
 */
describeWithKafka('API keys over ledger.api-keys.v1', () => {
  it('a key created in the ledger is accepted by a topic-fed service, and refused there once revoked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'el-keys-topic-'));
    const store = SqliteEventStore.open({ path: join(dir, 'events.db') });
    const ledgerKeys = new StoreApiKeys(store, 0);
    const bus = new KafkaIntegrationEvents({ brokers: kafkaForTests.brokers, clientId: 'api-keys-test', partitions: 2, log: quiet });
    const relay = new EntitlementRelay(store, bus, new InMemoryCheckpointStore(), { subscriptionId: 'relay', topic: `entitlements-${randomUUID()}`, batchSize: 100 });
    const remote = new TopicApiKeys(bus, `keys-${randomUUID()}`);
    try {
      await ledgerKeys.start();
      const { key, record } = await ledgerKeys.create({ name: 'billing', role: 'service', customers: ['acme'] }, meta());
      await relay.start();
      await remote.start();
      const auth = new CredentialAuthenticator(remote, null);
      await until('the key to arrive on the topic', () => remote.get(record.keyId) !== undefined, { timeoutMs: 30_000, intervalMs: 20 });
      expect(await auth.authenticate(`Bearer ${key}`)).toMatchObject({ id: `key:${record.keyId}`, role: 'service', customers: ['acme'] });
      expect(remote.health()).toMatchObject({ status: 'up', caughtUp: true, errors: 0, lastMessageAt: expect.any(String) });
      await ledgerKeys.revoke(record.keyId, 'rotated', meta());
      await until('the revocation to arrive on the topic', () => remote.get(record.keyId) === undefined, { timeoutMs: 30_000, intervalMs: 20 });
      await expect(Promise.resolve().then(() => auth.authenticate(`Bearer ${key}`))).rejects.toMatchObject({ code: 'AUTH.INVALID_CREDENTIAL' });
    } finally {
      await remote.stop();
      await relay.stop();
      await bus.close();
      await ledgerKeys.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a key topic someone created without compaction (old keys would expire with retention)', async () => {
    const topic = `api-keys-${randomUUID()}`;
    const creator = new KafkaIntegrationEvents({ brokers: kafkaForTests.brokers, clientId: 'api-keys-test', partitions: 1, compactedTopics: new Set(), log: quiet });
    const strict = new KafkaIntegrationEvents({ brokers: kafkaForTests.brokers, clientId: 'api-keys-test', partitions: 1, compactedTopics: new Set([topic]), log: quiet });
    try {
      await creator.ensureTopics([topic]);
      await expect(strict.ensureTopics([topic])).rejects.toThrow(new RegExp(`${topic} has cleanup.policy=delete; it must be compacted`));
    } finally {
      await creator.close();
      await strict.close();
    }
  });
});
