import { randomUUID } from 'node:crypto';
import { isEntitlementEvent } from '@el/domain';
import type { EventStore } from '@el/event-store';
import { LedgerLog, sampleCatalog } from '@el/event-store/testing';
import { until } from '@el/testing';
import { CATALOG_PUBLISHED_TYPE, isControlMessage, WATERMARK_TYPE, WatermarkTracker, type CatalogPublishedV1, type EntitlementEventV1, type WatermarkV1 } from '@el/contracts';
import { jsonOf, typeOf, type IncomingMessage, type IntegrationEvents, type MessageHandler } from '../integration-events.port';

/** Entitlement changes only: control messages (watermarks, catalog versions) are skipped. */
const changes = (handler: MessageHandler): MessageHandler => async (m) => {
  if (!isControlMessage(m.headers)) await handler(m);
};

export interface BusFixture {
  readonly bus: IntegrationEvents;
  readonly store: EventStore;
  /** The topic entitlement changes arrive on for this test. */
  readonly topic: string;
  /** Writes `count` entitlements' worth of history; returns the ids of the entitlement events written. */
  writeHistory(count: number): Promise<void>;
  /** Starts whatever moves events from the store to the topic (the relay, for Kafka). */
  start(): Promise<void>;
  cleanup(): Promise<void>;
}

export async function entitlementEventIds(store: EventStore): Promise<string[]> {
  const ids: string[] = [];
  for (let after = 0; ; ) {
    const page = await store.readAll({ after, maxCount: 1000 });
    if (page.length === 0) return ids;
    for (const e of page) if (isEntitlementEvent(e)) ids.push(e.id);
    after = page[page.length - 1]!.position;
  }
}

/** What every IntegrationEvents adapter must do for ledger.entitlements.v1. */
export function integrationEventsContract(name: string, open: () => Promise<BusFixture>): void {
  describe(`IntegrationEvents contract: ${name}`, () => {
    let fx: BusFixture;
    beforeEach(async () => {
      fx = await open();
    });
    afterEach(async () => {
      await fx.cleanup();
    });

    it('delivers every entitlement change, keyed by customer, in revision order per entitlement', async () => {
      await fx.writeHistory(20);
      await fx.start();
      const expected = await entitlementEventIds(fx.store);
      const got: IncomingMessage[] = [];
      const consumer = await fx.bus.consume(fx.topic, `g-${randomUUID()}`, changes(async (m) => void got.push(m)));
      await until(`${expected.length} messages`, () => got.length >= expected.length);
      await consumer.stop();
      const events = got.map((m) => ({ m, e: jsonOf<EntitlementEventV1>(m) }));
      expect(new Set(events.map(({ e }) => e.id))).toEqual(new Set(expected));
      expect(got).toHaveLength(expected.length);
      for (const { m, e } of events) {
        expect(m.key).toBe(e.customerid);
        expect(m.id).toBe(e.id);
        expect(e.data.entitlement.entitlementId).toBe(e.subject);
      }
      const bySubject = new Map<string, number[]>();
      for (const { e } of events) bySubject.set(e.subject, [...(bySubject.get(e.subject) ?? []), e.data.entitlement.revision]);
      for (const revisions of bySubject.values()) expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
    });

    it('after a consumer restart, continues where it had got to: at-least-once, nothing lost', async () => {
      await fx.writeHistory(20);
      await fx.start();
      const group = `g-${randomUUID()}`;
      const seen: string[] = [];
      const first = await fx.bus.consume(fx.topic, group, changes(async (m) => void seen.push(m.id!)));
      await until('some messages', () => seen.length >= 20);
      await first.stop();
      await fx.writeHistory(10); // more arrives while nobody consumes
      const expected = await entitlementEventIds(fx.store);
      const second = await fx.bus.consume(fx.topic, group, changes(async (m) => void seen.push(m.id!)));
      await until('the rest', () => expected.every((id) => seen.includes(id)));
      await second.stop();
      expect(new Set(seen)).toEqual(new Set(expected));
      // A restart may redeliver what was handled but not yet marked consumed, never more than that.
      expect(seen.length).toBeLessThan(expected.length + 20 + 1);
    });

    it('with concurrency, keeps every key in order and skips nothing', async () => {
      await fx.writeHistory(24);
      await fx.start();
      const expected = await entitlementEventIds(fx.store);
      const got: EntitlementEventV1[] = [];
      let active = 0;
      let maxActive = 0;
      const consumer = await fx.bus.consume(
        fx.topic,
        `g-${randomUUID()}`,
        changes(async (m) => {
          active += 1;
          maxActive = Math.max(maxActive, active);
          await new Promise((r) => setTimeout(r, Math.random() * 5));
          got.push(jsonOf<EntitlementEventV1>(m));
          active -= 1;
        }),
        { concurrency: 8 },
      );
      await until('every message', () => got.length >= expected.length);
      await consumer.stop();
      expect(new Set(got.map((e) => e.id))).toEqual(new Set(expected));
      const byKey = new Map<string, number[]>();
      for (const e of got) byKey.set(e.customerid, [...(byKey.get(e.customerid) ?? []), e.position]);
      for (const positions of byKey.values()) expect(positions).toEqual([...positions].sort((a, b) => a - b));
      expect(maxActive).toBeLessThanOrEqual(8 * 6); // never more than the limit per partition
    });

    it('sends watermarks: once they reach a position, every change up to it has arrived', async () => {
      await fx.writeHistory(15);
      await fx.start();
      const head = await fx.store.headPosition();
      const expected = await entitlementEventIds(fx.store);
      const got = new Set<string>();
      const tracker = new WatermarkTracker();
      let missingAtWatermark: string[] | null = null;
      const consumer = await fx.bus.consume(fx.topic, `g-${randomUUID()}`, async (m) => {
        if (typeOf(m) !== WATERMARK_TYPE) return void got.add(m.id!);
        const safe = tracker.observe(jsonOf<WatermarkV1>(m).data);
        if (safe >= head && missingAtWatermark === null) missingAtWatermark = expected.filter((id) => !got.has(id));
      });
      await until('the watermark to reach the head', () => missingAtWatermark !== null);
      await consumer.stop();
      expect(missingAtWatermark).toEqual([]);
    });

    it('sends every catalog version to every partition, in log order with the changes around it', async () => {
      const catalogs = new LedgerLog(fx.store, 'catalog');
      await fx.writeHistory(4);
      const v1 = await catalogs.publishCatalog();
      await fx.writeHistory(4);
      const v2 = await catalogs.publishCatalog({ ...sampleCatalog().catalog, label: 'second' });
      await fx.writeHistory(4);
      await fx.start();
      const head = await fx.store.headPosition();
      const partitions = await fx.bus.partitionsOf(fx.topic);
      const byPartition = new Map<number, { type: string; position: number }[]>();
      const tracker = new WatermarkTracker();
      const consumer = await fx.bus.consume(fx.topic, `g-${randomUUID()}`, async (m) => {
        const type = typeOf(m)!;
        if (type === WATERMARK_TYPE) return void tracker.observe(jsonOf<WatermarkV1>(m).data);
        const list = byPartition.get(m.partition) ?? [];
        byPartition.set(m.partition, list);
        list.push({ type, position: jsonOf<{ position: number }>(m).position });
        if (type === CATALOG_PUBLISHED_TYPE) {
          const c = jsonOf<CatalogPublishedV1>(m);
          expect(m.id).toBe(`catalog:${c.data.version}:${m.partition}`);
          expect(c.data.catalog.label).toBe(c.data.version === 1 ? '2026-11 sample' : 'second');
        }
      });
      await until('the watermark at the head on every partition', () => tracker.position() >= head);
      await consumer.stop();
      for (let p = 0; p < partitions; p++) {
        const got = byPartition.get(p) ?? [];
        expect(got.filter((m) => m.type === CATALOG_PUBLISHED_TYPE).map((m) => m.position)).toEqual([v1, v2]);
        // Each partition's messages are in log order: a change before a catalog version was recorded before it.
        expect(got.map((m) => m.position)).toEqual([...got.map((m) => m.position)].sort((a, b) => a - b));
      }
    });

    it('resumes from the offsets a consumer kept itself (startFrom), whatever its group committed', async () => {
      await fx.writeHistory(12);
      await fx.start();
      const expected = await entitlementEventIds(fx.store);
      const first: IncomingMessage[] = [];
      const group = `g-${randomUUID()}`;
      const c1 = await fx.bus.consume(fx.topic, group, changes(async (m) => void first.push(m)));
      await until('every message', () => first.length >= expected.length);
      await c1.stop();
      // Pretend a snapshot was taken after the first half: the next offset to read per partition.
      const half = first.slice(0, Math.floor(first.length / 2));
      const next: Record<number, string> = {};
      for (const m of half) next[m.partition] = String(Number(m.offset) + 1);
      const partitions = await fx.bus.partitionsOf(fx.topic);
      for (let p = 0; p < partitions; p++) {
        const offsets = first.filter((m) => m.partition === p).map((m) => Number(m.offset));
        if (next[p] === undefined && offsets.length > 0) next[p] = String(Math.min(...offsets));
      }
      const second: IncomingMessage[] = [];
      const c2 = await fx.bus.consume(fx.topic, group, changes(async (m) => void second.push(m)), { startFrom: next });
      const rest = first.slice(half.length).map((m) => m.id);
      await until('the second half', () => rest.every((id) => second.some((m) => m.id === id)));
      await c2.stop();
      const halfIds = new Set(half.map((m) => m.id));
      // Lag is measurable: the end offsets are past everything read.
      const ends = await fx.bus.endOffsets(fx.topic);
      for (const m of first) expect(BigInt(ends[m.partition]!)).toBeGreaterThan(BigInt(m.offset));
      expect(second.filter((m) => halfIds.has(m.id))).toEqual([]);
    });

    it('replays from the beginning (startFrom 0 on every partition) whatever its group committed', async () => {
      await fx.writeHistory(6);
      await fx.start();
      const expected = await entitlementEventIds(fx.store);
      const group = `g-${randomUUID()}`;
      const first: IncomingMessage[] = [];
      const c1 = await fx.bus.consume(fx.topic, group, changes(async (m) => void first.push(m)));
      await until('every message', () => first.length >= expected.length);
      await c1.stop();
      const partitions = await fx.bus.partitionsOf(fx.topic);
      const again: IncomingMessage[] = [];
      const c2 = await fx.bus.consume(fx.topic, group, changes(async (m) => void again.push(m)), { startFrom: Object.fromEntries(Array.from({ length: partitions }, (_, p) => [p, '0'])), dedupe: false });
      await until('every message again', () => expected.every((id) => again.some((m) => m.id === id)), { timeoutMs: 20_000 });
      await c2.stop();
    });

    it('retries a handler that fails, and hands each message to it once', async () => {
      await fx.writeHistory(10);
      await fx.start();
      const expected = await entitlementEventIds(fx.store);
      const head = await fx.store.headPosition();
      const handled: string[] = [];
      const watermarks = new WatermarkTracker();
      let failed = false;
      const consumer = await fx.bus.consume(
        fx.topic,
        `g-${randomUUID()}`,
        async (m) => {
          if (typeOf(m) === WATERMARK_TYPE) return void watermarks.observe(jsonOf<WatermarkV1>(m).data);
          if (handled.length === 7 && !failed) {
            failed = true;
            throw new Error('transient');
          }
          handled.push(m.id!);
        },
        { retry: { initialMs: 10, maxMs: 50 } },
      );
      // Watermarks come after the changes of their batch on every partition: at the head's, every change has been handled.
      await until('the watermark at the head on every partition', () => watermarks.position() >= head);
      await consumer.stop();
      expect(failed).toBe(true);
      expect(handled).toHaveLength(expected.length);
      expect(new Set(handled)).toEqual(new Set(expected));
    });
  });
}
