import { TOPICS } from '@el/contracts';
import { InProcessIntegrationEvents } from '@el/messaging';
import { withTimeout } from '@el/platform';
import { tempEventStore } from '@el/read-models/testing';
import { DEFAULT_METERING_OPTIONS } from '../metering.config';
import { MeterFeedCatchUp } from './meter-feed-catch-up';

describe('the meter feed gate in-process (the feed is the local event store)', () => {
  it('opens at once on an empty log', async () => {
    const events = tempEventStore();
    try {
      const gate = new MeterFeedCatchUp(new InProcessIntegrationEvents(events.store), DEFAULT_METERING_OPTIONS);
      await gate.onApplicationBootstrap();
      expect(gate.isReady).toBe(true);
    } finally {
      await events.cleanup();
    }
  });

  it('counts what the feed read before the gate knew its target (a small log read before start-up finished)', async () => {
    const events = tempEventStore();
    try {
      await events.store.append('other-1', Array.from({ length: 30 }, (_, j) => ({ id: `e-${j}`, type: 'SomethingHappened', data: { n: j }, metadata: {} })));
      const gate = new MeterFeedCatchUp(new InProcessIntegrationEvents(events.store), DEFAULT_METERING_OPTIONS);
      gate.note(0, '30'); // the feed's watermark at the head, handled before onApplicationBootstrap ran
      await gate.onApplicationBootstrap();
      expect(gate.isReady).toBe(true);
    } finally {
      await events.cleanup();
    }
  });

  it('stays closed until the feed has read the log up to its head at start, and says how much is left', async () => {
    const events = tempEventStore();
    try {
      // 1,200 events of another stream: the feed delivers no entitlement change, only its watermarks (every 500).
      for (let i = 0; i < 1_200; i += 100) {
        await events.store.append(
          'other-1',
          Array.from({ length: 100 }, (_, j) => ({ id: `e-${i + j}`, type: 'SomethingHappened', data: { n: i + j }, metadata: {} })),
        );
      }
      const bus = new InProcessIntegrationEvents(events.store);
      const gate = new MeterFeedCatchUp(bus, DEFAULT_METERING_OPTIONS);
      await gate.onApplicationBootstrap();
      // Before this change it was ready at once: usage for a customer not read yet was refused as unknown.
      expect(gate.isReady).toBe(false);
      expect(gate.behind).toEqual({ 0: '1200' });
      gate.note(0, '500'); // a watermark part-way: positions have gaps, progress is the position read
      expect(gate.isReady).toBe(false);
      expect(gate.behind).toEqual({ 0: '700' });
      const seen: string[] = [];
      const consumer = await bus.consume(TOPICS.entitlements, 'meters', async (m) => {
        seen.push(m.offset);
        gate.note(m.partition, m.offset);
      }, { fromBeginning: true, dedupe: false });
      try {
        await withTimeout(gate.ready, 10_000).catch((err: Error) => {
          throw new Error(`not ready (${err.message}); offsets seen: ${seen.join(',')}`);
        });
        expect(gate.isReady).toBe(true);
        expect(seen).toContain('1200');
      } finally {
        await consumer.stop();
      }
    } finally {
      await events.cleanup();
    }
  });
});
