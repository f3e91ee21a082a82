import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { KafkaIntegrationEvents } from '@el/messaging';
import { MeterFeedCatchUp } from '@el/metering-service';
import { describeWithKafka, kafkaForTests } from '@el/testing';

/**
 * The metering service counts usage only once its meter feed has read ledger.entitlements.v1 up to
 * where it stood at start. The gate is measured against a real broker's offsets. A consumer that
 * joins at its group's committed offsets hands out messages near the end before its seek to the
 * beginning takes effect: those alone must not open the gate (they did, and metering.kafka.e2e
 * flaked when consumers joined at once).
 */
describeWithKafka('the meter feed\'s catch-up gate', () => {
  const topic = `ledger.entitlements.v1.gate-${randomUUID()}`;
  const bus = new KafkaIntegrationEvents({ brokers: kafkaForTests.brokers, clientId: 'gate', partitions: 2, log: () => undefined });
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => bus.close());

  it('opens only when every partition has been read without a gap from its first message to where it ended at start', async () => {
    await bus.ensureTopics([topic]);
    await bus.publish(topic, Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, id: `m${i}`, value: { i }, partition: i % 2 })));
    const ends = await bus.endOffsets(topic);
    expect(ends).toEqual({ 0: '5', 1: '5' });
    const gate = new MeterFeedCatchUp(bus, { entitlementsTopic: topic, countersTopic: `${topic}.counters` });
    await gate.onApplicationBootstrap();
    expect(gate.isReady).toBe(false);
    expect(gate.behind).toEqual({ 0: '5', 1: '5' });

    // Messages near the end first (the group's committed offsets), then the seek's re-read from the beginning.
    gate.note(0, '4');
    gate.note(1, '4');
    expect(gate.isReady).toBe(false);
    for (let o = 0; o < 5; o++) gate.note(0, String(o));
    expect(gate.isReady).toBe(false);
    expect(gate.behind).toEqual({ 0: '0', 1: '5' });
    for (let o = 0; o < 4; o++) gate.note(1, String(o));
    expect(gate.isReady).toBe(false);
    // A redelivery changes nothing; the last message of partition 1 opens it.
    gate.note(1, '2');
    expect(gate.isReady).toBe(false);
    gate.note(1, '4');
    expect(gate.isReady).toBe(true);
    await expect(gate.ready).resolves.toBeUndefined();
  });
});
