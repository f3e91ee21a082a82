import { randomUUID } from 'node:crypto';
import { until } from '@el/testing';
import { runCheckpointed, InMemoryCheckpointStore } from '../checkpointed';
import {
  EventIdConflictError,
  SubscriptionError,
  WrongExpectedRevisionError,
  type EventStore,
  type EventToAppend,
  type RecordedEvent,
} from '../event-store.port';

export interface ContractFixture {
  readonly store: EventStore;
  /** Closes the store and opens it again on the same data (for durability checks); omit if not supported. */
  reopen?(): Promise<EventStore>;
  cleanup(): Promise<void>;
}

export interface ContractOptions {
  /** Positions are 1, 2, 3, ... with no holes (true for SQLite, not for EventStoreDB). */
  readonly densePositions: boolean;
  /** An event id is unique across every stream (SQLite); EventStoreDB checks ids per stream only. */
  readonly globalEventIds: boolean;
}

const ev = (type = 'Happened', data: unknown = { n: 1 }): EventToAppend => ({
  id: randomUUID(),
  type,
  data,
  metadata: { correlationId: 'c', schemaVersion: 1 },
});

async function readEverything(store: EventStore): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  let after = 0;
  for (;;) {
    const page = await store.readAll({ after, maxCount: 1000 });
    if (page.length === 0) return out;
    out.push(...page);
    after = page[page.length - 1]!.position;
  }
}

/**
 * The behaviour every EventStore adapter must have. Each test uses fresh,
 * unique stream names, so adapters that share a server between tests work.
 */
export function eventStoreContract(name: string, open: () => Promise<ContractFixture>, options: ContractOptions): void {
  describe(`EventStore contract: ${name}`, () => {
    let fx: ContractFixture;
    let store: EventStore;
    let s: string;
    beforeEach(async () => {
      fx = await open();
      store = fx.store;
      s = `test-${randomUUID()}`;
    });
    afterEach(async () => {
      await fx.cleanup();
    });

    describe('append and read', () => {
      it('appends to a new stream from revision 0 and reads it back with data and metadata', async () => {
        const events = [ev('A', { a: 1, nested: { list: [1, 2] } }), ev('B', { b: 'two' })];
        const r = await store.append(s, events, { expectedRevision: 'no_stream' });
        expect(r).toMatchObject({ revision: 1, duplicate: false });
        const read = await store.readStream(s);
        expect(read.map((e) => [e.id, e.type, e.revision, e.stream])).toEqual([
          [events[0]!.id, 'A', 0, s],
          [events[1]!.id, 'B', 1, s],
        ]);
        expect(read[0]!.data).toEqual({ a: 1, nested: { list: [1, 2] } });
        expect(read[0]!.metadata).toEqual({ correlationId: 'c', schemaVersion: 1 });
        expect(read[1]!.position).toBe(r.position);
        expect(read[0]!.position).toBeLessThan(read[1]!.position);
        expect(Number.isNaN(Date.parse(read[0]!.recordedAt))).toBe(false);
      });

      it('says whether its positions are dense (what lag in events can be computed from)', () => {
        expect(store.densePositions).toBe(options.densePositions);
      });

      it('reads a missing stream as empty', async () => {
        expect(await store.readStream(`missing-${randomUUID()}`)).toEqual([]);
      });

      it('reads a stream from a revision with a maximum count', async () => {
        await store.append(s, [ev(), ev(), ev(), ev()]);
        const page = await store.readStream(s, { fromRevision: 1, maxCount: 2 });
        expect(page.map((e) => e.revision)).toEqual([1, 2]);
      });

      it('finds the revision of an event by its id, in its own stream only', async () => {
        const events = [ev(), ev(), ev()];
        await store.append(s, events);
        const other = `test-${randomUUID()}`;
        await store.append(other, [ev()]);
        expect(await store.revisionOf(s, events[1]!.id)).toBe(1);
        expect(await store.revisionOf(s, events[2]!.id)).toBe(2);
        expect(await store.revisionOf(other, events[1]!.id)).toBeNull();
        expect(await store.revisionOf(s, randomUUID())).toBeNull();
        expect(await store.revisionOf(`missing-${randomUUID()}`, events[0]!.id)).toBeNull();
      });

      it('rejects an empty append', async () => {
        await expect(store.append(s, [])).rejects.toThrow(/no events/);
      });
    });

    describe('optimistic concurrency', () => {
      it('enforces no_stream, stream_exists and exact revisions, writing nothing on conflict', async () => {
        await expect(store.append(s, [ev()], { expectedRevision: 'stream_exists' })).rejects.toBeInstanceOf(WrongExpectedRevisionError);
        await expect(store.append(s, [ev()], { expectedRevision: 3 })).rejects.toMatchObject({ stream: s, expected: 3, actual: -1 });
        await store.append(s, [ev()], { expectedRevision: 'no_stream' });
        await expect(store.append(s, [ev()], { expectedRevision: 'no_stream' })).rejects.toMatchObject({ actual: 0 });
        await expect(store.append(s, [ev()], { expectedRevision: 5 })).rejects.toMatchObject({ expected: 5, actual: 0 });
        expect(await store.readStream(s)).toHaveLength(1);
        await store.append(s, [ev()], { expectedRevision: 0 });
        await store.append(s, [ev()], { expectedRevision: 'stream_exists' });
        await store.append(s, [ev()], { expectedRevision: 'any' });
        expect((await store.readStream(s)).map((e) => e.revision)).toEqual([0, 1, 2, 3]);
      });

      it('lets exactly one of many concurrent writers at the same revision win', async () => {
        await store.append(s, [ev()]);
        const results = await Promise.allSettled(Array.from({ length: 10 }, () => store.append(s, [ev(), ev()], { expectedRevision: 0 })));
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(9);
        for (const l of lost) expect(l.reason).toBeInstanceOf(WrongExpectedRevisionError);
        expect(await store.readStream(s)).toHaveLength(3);
      });
    });

    describe('idempotency by event id', () => {
      it('returns the original result for a retried append, even with a stale expected revision', async () => {
        const batch = [ev(), ev()];
        const first = await store.append(s, batch, { expectedRevision: 'no_stream' });
        await store.append(s, [ev()]);
        const retry = await store.append(s, batch, { expectedRevision: 'no_stream' });
        expect(retry).toEqual({ revision: first.revision, position: first.position, duplicate: true });
        expect(await store.readStream(s)).toHaveLength(3);
      });

      it('refuses ids that collide with different events', async () => {
        const a = ev();
        await store.append(s, [a, ev()]);
        await expect(store.append(s, [a, ev()])).rejects.toBeInstanceOf(EventIdConflictError);
        if (options.globalEventIds) await expect(store.append(`other-${randomUUID()}`, [a])).rejects.toBeInstanceOf(EventIdConflictError);
        expect(await store.readStream(s)).toHaveLength(2);
      });
    });

    describe('global log', () => {
      it('orders events of concurrent writers in commit order, each stream in revision order', async () => {
        const before = await store.headPosition();
        const writers = 16;
        const appendsEach = 25;
        const streams = Array.from({ length: writers }, (_, i) => `${s}-w${i}`);
        await Promise.all(
          streams.map(async (stream) => {
            for (let i = 0; i < appendsEach; i++) await store.append(stream, [ev('X', { i }), ev('Y', { i })], { expectedRevision: i === 0 ? 'no_stream' : i * 2 - 1 });
          }),
        );
        const all = (await readEverything(store)).filter((e) => e.position > before && streams.includes(e.stream));
        expect(all).toHaveLength(writers * appendsEach * 2);
        for (let i = 1; i < all.length; i++) expect(all[i]!.position).toBeGreaterThan(all[i - 1]!.position);
        if (options.densePositions) {
          all.forEach((e, i) => expect(e.position).toBe(before + i + 1));
        }
        for (const stream of streams) {
          const revisions = all.filter((e) => e.stream === stream).map((e) => e.revision);
          expect(revisions).toEqual(Array.from({ length: appendsEach * 2 }, (_, i) => i));
        }
        // An append's events are contiguous in the log.
        for (let i = 0; i < all.length; i += 2) {
          expect(all[i]!.stream).toBe(all[i + 1]!.stream);
          expect([all[i]!.type, all[i + 1]!.type]).toEqual(['X', 'Y']);
        }
      });

      it('pages through the log with after and maxCount', async () => {
        const before = await store.headPosition();
        for (let i = 0; i < 5; i++) await store.append(s, [ev('N', { i })]);
        const first = await store.readAll({ after: before, maxCount: 2 });
        expect(first.map((e) => e.data)).toEqual([{ i: 0 }, { i: 1 }]);
        const rest = await store.readAll({ after: first[1]!.position, maxCount: 10 });
        expect(rest.filter((e) => e.stream === s).map((e) => e.data)).toEqual([{ i: 2 }, { i: 3 }, { i: 4 }]);
        expect(await store.headPosition()).toBe(rest[rest.length - 1]!.position);
      });
    });

    describe('subscriptions', () => {
      it('catches up, then follows live appends made during catch-up, without gaps or duplicates', async () => {
        const start = await store.headPosition();
        for (let i = 0; i < 30; i++) await store.append(s, Array.from({ length: 10 }, (_, j) => ev('H', { i, j })));
        const seen: RecordedEvent[] = [];
        const sub = store.subscribeAll(
          async (batch) => {
            seen.push(...batch.filter((e) => e.stream.startsWith(s)));
            await new Promise((r) => setTimeout(r, 1)); // a slow consumer, so live appends overlap catch-up
          },
          { after: start, batchSize: 25 },
        );
        const live = (async () => {
          for (let i = 0; i < 60; i++) {
            await store.append(`${s}-live`, [ev('L', { i })]);
            if (i % 10 === 0) await new Promise((r) => setTimeout(r, 2));
          }
        })();
        await live;
        await until('360 events', () => seen.length >= 360, { timeoutMs: 10_000, intervalMs: 5 });
        // At the head (every batch handled), so a duplicate delivered late would be in `seen` by now.
        const head = await store.headPosition();
        await until('the subscription at the head', () => sub.position() >= head, { timeoutMs: 10_000, intervalMs: 5 });
        await sub.stop();
        const expected = (await readEverything(store)).filter((e) => e.position > start && e.stream.startsWith(s));
        expect(seen.map((e) => e.id)).toEqual(expected.map((e) => e.id));
        expect(new Set(seen.map((e) => e.id)).size).toBe(360);
        expect(sub.position()).toBe(expected[expected.length - 1]!.position);
      });

      it('starts after the given position', async () => {
        await store.append(s, [ev('Old')]);
        const from = await store.headPosition();
        await store.append(s, [ev('New')]);
        const seen: string[] = [];
        const sub = store.subscribeAll((b) => void seen.push(...b.filter((e) => e.stream === s).map((e) => e.type)), { after: from });
        await until('one event', () => seen.length === 1, { timeoutMs: 10_000, intervalMs: 5 });
        await sub.stop();
        expect(seen).toEqual(['New']);
      });

      it('stops the subscription when the handler throws, and resumes from the checkpoint with nothing lost', async () => {
        const start = await store.headPosition();
        for (let i = 0; i < 20; i++) await store.append(s, [ev('E', { i })]);
        let checkpoint = start;
        const handled: number[] = [];
        let failedOnce = false;
        const handler = async (batch: readonly RecordedEvent[]) => {
          for (const e of batch) {
            if (e.stream !== s) continue;
            const i = (e.data as { i: number }).i;
            if (i === 7 && !failedOnce) {
              failedOnce = true;
              throw new Error('poison');
            }
            handled.push(i);
          }
          checkpoint = batch[batch.length - 1]!.position;
        };
        const first = store.subscribeAll(handler, { after: start, batchSize: 5 });
        const error = await first.done.then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(SubscriptionError);
        expect((error as SubscriptionError).lastHandledPosition).toBe(checkpoint);
        // The batch that failed was partly handled (i = 5, 6) but not checkpointed: it is redelivered.
        const second = store.subscribeAll(handler, { after: checkpoint, batchSize: 5 });
        await until('event 19', () => handled.includes(19), { timeoutMs: 10_000, intervalMs: 5 });
        await second.stop();
        expect([...new Set(handled)].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
        expect(handled.filter((i) => i === 5)).toHaveLength(2); // at-least-once: redelivered after the failure
      });

      it('runCheckpointed retries a failing handler from its checkpoint with backoff', async () => {
        const start = await store.headPosition();
        for (let i = 0; i < 10; i++) await store.append(s, [ev('E', { i })]);
        const checkpoints = new InMemoryCheckpointStore();
        await checkpoints.save('contract', start);
        const handled: number[] = [];
        let failures = 0;
        const errors: number[] = [];
        const runner = runCheckpointed(store, {
          subscriptionId: 'contract',
          checkpoints,
          checkpointing: 'after-batch',
          batchSize: 3,
          retry: { initialMs: 5, maxMs: 20 },
          onError: (_e, attempt) => errors.push(attempt),
          handle: async (batch) => {
            const mine = batch.filter((e) => e.stream === s).map((e) => (e.data as { i: number }).i);
            if (mine.includes(4) && failures < 2) {
              failures += 1;
              throw new Error('transient');
            }
            handled.push(...mine);
          },
        });
        await until('event 9', () => handled.includes(9), { timeoutMs: 10_000, intervalMs: 5 });
        await runner.stop();
        expect(handled).toEqual(Array.from({ length: 10 }, (_, i) => i));
        expect(errors).toEqual([1, 2]);
        expect(await checkpoints.load('contract')).toBeGreaterThanOrEqual(runner.position());
      });

      it('runCheckpointed stopped while its checkpoint loads subscribes nothing and stops', async () => {
        let loaded!: () => void;
        const loading = new Promise<void>((r) => (loaded = r));
        let handled = 0;
        const runner = runCheckpointed(store, {
          subscriptionId: 'contract-slow-load',
          checkpoints: { load: () => loading.then(() => 0), save: async () => undefined },
          checkpointing: 'by-handler',
          handle: () => void (handled += 1),
        });
        const stopping = runner.stop();
        loaded();
        await expect(Promise.race([stopping.then(() => 'stopped'), new Promise((r) => setTimeout(() => r('still running'), 2_000))])).resolves.toBe('stopped');
        await store.append(s, [ev('AfterStop')]);
        await new Promise((r) => setTimeout(r, 50));
        expect(handled).toBe(0);
      });

      it('gives the event loop a turn between pages while it catches up (a timer fires before the catch-up ends)', async () => {
        const start = await store.headPosition();
        for (let i = 0; i < 20; i++) await store.append(s, Array.from({ length: 10 }, (_, j) => ev('T', { i, j })));
        const head = await store.headPosition();
        let timerFiredAt: number | null = null;
        const timer = setTimeout(() => (timerFiredAt = sub.position()), 0);
        // A handler that works synchronously for 2 ms a page and never awaits anything real (as the projector does on
        // SQLite): without a turn between pages, the timer (due after 1 ms) would wait for the whole catch-up of 40 pages.
        const busy = () => {
          const until = performance.now() + 2;
          while (performance.now() < until);
        };
        const sub = store.subscribeAll(busy, { after: start, batchSize: 5 });
        await until('the head', () => sub.position() >= head, { timeoutMs: 10_000, intervalMs: 5 });
        await sub.stop();
        clearTimeout(timer);
        expect(timerFiredAt).not.toBeNull();
        expect(timerFiredAt!).toBeLessThan(head);
      });

      it('a background subscription waits while another one catches up to the head it started at, then reads on', async () => {
        const start = await store.headPosition();
        for (let i = 0; i < 10; i++) await store.append(s, Array.from({ length: 5 }, (_, j) => ev('P', { i, j })));
        const head = await store.headPosition();
        const order: string[] = [];
        let firstPageHandled = false;
        const foreground = store.subscribeAll(
          async (batch) => {
            order.push(`fg:${batch[batch.length - 1]!.position}`);
            firstPageHandled = true;
            await new Promise((r) => setTimeout(r, 2));
          },
          { after: start, batchSize: 10 },
        );
        await until('the foreground subscription under way', () => firstPageHandled, { timeoutMs: 10_000, intervalMs: 1 });
        const background = store.subscribeAll((batch) => void order.push(`bg:${batch[batch.length - 1]!.position}`), { after: start, batchSize: 10, priority: 'background' });
        try {
          await until('the background subscription at the head', () => background.position() >= head, { timeoutMs: 10_000, intervalMs: 5 });
          // Every page of the foreground catch-up came first, up to the head; then the background one read everything.
          const firstBackground = order.findIndex((o) => o.startsWith('bg:'));
          expect(order.slice(0, firstBackground)).toEqual(order.filter((o) => o.startsWith('fg:')));
          expect(Number(order[firstBackground - 1]!.slice(3))).toBeGreaterThanOrEqual(head);
          // Live appends afterwards reach both (catching up is over for good).
          await store.append(s, [ev('Live')]);
          const live = await store.headPosition();
          await until('both at the live append', () => foreground.position() >= live && background.position() >= live, { timeoutMs: 10_000, intervalMs: 5 });
        } finally {
          await foreground.stop();
          await background.stop();
        }
      });

      it('a deferred subscription reads once the normal ones have caught up, and a background one only after it has', async () => {
        const start = await store.headPosition();
        for (let i = 0; i < 10; i++) await store.append(s, Array.from({ length: 5 }, (_, j) => ev('D', { i, j })));
        const head = await store.headPosition();
        const order: string[] = [];
        const pause = () => new Promise((r) => setTimeout(r, 2));
        let firstPageHandled = false;
        const normal = store.subscribeAll(
          async () => {
            order.push('normal');
            firstPageHandled = true;
            await pause();
          },
          { after: start, batchSize: 10 },
        );
        await until('the normal subscription under way', () => firstPageHandled, { timeoutMs: 10_000, intervalMs: 1 });
        const background = store.subscribeAll(() => void order.push('background'), { after: start, batchSize: 10, priority: 'background' });
        const deferred = store.subscribeAll(
          async () => {
            order.push('deferred');
            await pause();
          },
          { after: start, batchSize: 10, priority: 'deferred' },
        );
        try {
          await until('all three at the head', () => [normal, deferred, background].every((sub) => sub.position() >= head), { timeoutMs: 10_000, intervalMs: 5 });
          // Each read its whole catch-up in one run of pages, in this order (the pauses gave the others every chance to cut in).
          const runs = order.filter((who, i) => who !== order[i - 1]);
          expect(runs).toEqual(['normal', 'deferred', 'background']);
          expect(order.filter((who) => who === 'deferred')).toHaveLength(5);
        } finally {
          await normal.stop();
          await deferred.stop();
          await background.stop();
        }
      });

      it('a deferred subscription waits only in its own catch-up: at the head it keeps up while another catches up', async () => {
        const deferred = store.subscribeAll(() => undefined, { after: await store.headPosition(), batchSize: 10, priority: 'deferred' });
        let release: () => void = () => undefined;
        const held = new Promise<void>((r) => (release = r));
        let normal: { stop(): Promise<void> } | null = null;
        try {
          // The deferred one follows the head. A normal one then starts from the beginning and is held on its first page.
          await store.append(s, [ev('First')]);
          const first = await store.headPosition();
          await until('the deferred subscription at the head', () => deferred.position() >= first, { timeoutMs: 10_000, intervalMs: 5 });
          let started = false;
          normal = store.subscribeAll(async () => {
            started = true;
            await held;
          }, { after: 0, batchSize: 1 });
          await until('the normal subscription catching up', () => started, { timeoutMs: 10_000, intervalMs: 1 });
          await store.append(s, [ev('Live')]);
          const live = await store.headPosition();
          await until('the deferred subscription at the live append', () => deferred.position() >= live, { timeoutMs: 10_000, intervalMs: 5 });
        } finally {
          release();
          await normal?.stop();
          await deferred.stop();
        }
      });

      it('a background subscription does not wait for one that failed or stopped', async () => {
        const start = await store.headPosition();
        for (let i = 0; i < 10; i++) await store.append(s, [ev('F', { i })]);
        const head = await store.headPosition();
        let release: () => void = () => undefined;
        const held = new Promise<void>((r) => (release = r));
        // Catching up, and stuck on its first page until it fails.
        const failing = store.subscribeAll(async () => {
          await held;
          throw new Error('handler down');
        }, { after: start, batchSize: 2 });
        const background = store.subscribeAll(() => undefined, { after: start, batchSize: 5, priority: 'background' });
        try {
          await new Promise((r) => setTimeout(r, 50));
          expect(background.position()).toBe(start);
          release();
          await expect(failing.done).rejects.toBeInstanceOf(SubscriptionError);
          await until('the background subscription at the head', () => background.position() >= head, { timeoutMs: 10_000, intervalMs: 5 });
        } finally {
          release();
          await failing.stop();
          await background.stop();
        }
      });

      it('does not call the handler after stop() resolves', async () => {
        let calls = 0;
        const sub = store.subscribeAll(() => void (calls += 1), { after: await store.headPosition() });
        await sub.stop();
        const before = calls;
        await store.append(s, [ev()]);
        // An absence can only be watched for a while: longer than a poll interval and a batch.
        await new Promise((r) => setTimeout(r, 60));
        expect(calls).toBe(before);
      });
    });

    describe('checkpoints', () => {
      it('keeps checkpoints beside the log: saved, loaded, never read as events or counted in the head', async () => {
        const id = `contract-${randomUUID()}`;
        expect(await store.checkpoints.load(id)).toBe(0);
        await store.append(s, [ev()]);
        const head = await store.headPosition();
        await store.checkpoints.save(id, head);
        await store.checkpoints.save(id, head);
        expect(await store.checkpoints.load(id)).toBe(head);
        expect(await store.headPosition()).toBe(head);
        expect(await store.readAll({ after: head, maxCount: 10 })).toEqual([]);
        const seen: RecordedEvent[] = [];
        const sub = store.subscribeAll((batch) => void seen.push(...batch), { after: head });
        await store.checkpoints.save(id, head);
        await store.append(s, [ev('After')]);
        await until('the append after the checkpoint', () => seen.some((e) => e.stream === s), { timeoutMs: 10_000, intervalMs: 5 });
        await sub.stop();
        expect(seen.filter((e) => e.stream === s).map((e) => e.type)).toEqual(['After']);
        expect(seen.filter((e) => e.type === 'CheckpointStored')).toEqual([]);
        if (fx.reopen) {
          store = await fx.reopen();
          expect(await store.checkpoints.load(id)).toBe(head);
        }
      });
    });

    if (options.densePositions) {
      it('keeps everything across a reopen, and positions continue densely', async () => {
        if (!fx.reopen) return;
        await store.append(s, [ev(), ev()]);
        const head = await store.headPosition();
        store = await fx.reopen();
        expect(await store.readStream(s)).toHaveLength(2);
        const r = await store.append(s, [ev()], { expectedRevision: 1 });
        expect(r.position).toBe(head + 1);
      });
    }
  });
}
