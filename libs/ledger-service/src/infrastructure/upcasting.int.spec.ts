import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createUpcaster, isEntitlementEvent } from '@el/domain';
import { SqliteEventStore, UpcastingEventStore, type EventStore } from '@el/event-store';
import { LedgerLog } from '@el/event-store/testing';
import { EntitlementFeed } from '@el/messaging';
import { openReadModels, ReadModelProjector, ReadModelQueries } from '@el/read-models';
import { until } from '@el/testing';
import type { EntitlementEventV1 } from '@el/contracts';
import { EntitlementRepository } from '../entitlements/entitlement.repository';
import { EventStreams } from './event-streams';

/**
 * A stored event's shape never changes; an upcaster turns an old version into
 * the current one, in one place: the EventStore every reader reads through.
 * Here `SeatAssigned` once stored `{user}` (schema version 0); today it is
 * `{userId}`. The command side, the projector and the integration feed must
 * all see `userId` — none of them upcasts on its own.
 */
describe('upcasting in one place', () => {
  let dir: string;
  let raw: SqliteEventStore;
  let store: EventStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'el-upcast-'));
    raw = SqliteEventStore.open({ path: join(dir, 'events.db') });
    await new LedgerLog(raw).orderGrant('SO-1', 'acme', 'ent-1', 'ANL-PRO', 3);
    // An event written by an older version of the ledger, in its old shape.
    await raw.append('entitlement-ent-1', [
      {
        id: 'old-seat-assigned',
        type: 'SeatAssigned',
        data: { entitlementId: 'ent-1', user: 'bob' },
        metadata: { correlationId: 'c', causationId: 'c', actor: { type: 'operator', id: 'alice' }, source: 'api', recordedAt: '2025-01-01T00:00:00.000Z', effectiveAt: '2025-01-01T00:00:00.000Z', schemaVersion: 0 },
      },
    ]);
    store = new UpcastingEventStore(raw, createUpcaster({ SeatAssigned: { 0: (d: { entitlementId: string; user: string }) => ({ entitlementId: d.entitlementId, userId: d.user }) } }));
  });
  afterEach(async () => {
    await raw.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hands every reader the event in its current shape: command side, projector, integration feed', async () => {
    // Command side: the stream folds with the seat assigned to bob.
    const loaded = await new EntitlementRepository(new EventStreams(store)).load('ent-1');
    expect(loaded.state).toMatchObject({ status: 'active' });
    expect(loaded.state.status !== 'none' && loaded.state.assignedUsers.toArray()).toEqual(['bob']);
    expect(loaded.stream.events[1]).toMatchObject({ type: 'SeatAssigned', data: { userId: 'bob' }, metadata: { schemaVersion: 1 } });

    // Projector (through subscribeAll): the read models have bob's seat.
    const ds = await openReadModels({ kind: 'sqlite', path: join(dir, 'read-models.db') });
    try {
      const projector = new ReadModelProjector(ds, store, { subscriptionId: 'read-models', batchSize: 100 });
      projector.start();
      const head = await store.headPosition();
      await until('the projector at the head', async () => (await projector.position()) >= head);
      await projector.stop();
      const seats = await new ReadModelQueries(ds).listSeatAssignments('ent-1', {});
      expect(seats.items.map((s) => s.userId)).toEqual(['bob']);
    } finally {
      await ds.destroy();
    }

    // Integration feed (the relay's and the in-process bus's): the change and the state carry userId.
    const messages = await new EntitlementFeed(store).messages((await store.readAll()).filter(isEntitlementEvent));
    const assigned = messages.map((m) => m.value as EntitlementEventV1).find((e) => e.type === 'io.ledger.entitlement.seat_assigned.v1');
    expect(assigned).toMatchObject({ data: { change: { userId: 'bob' }, entitlement: { assignedUsers: ['bob'] } } });

    // Without the decorator the same readers would get the old shape: the decorator is what upgrades it.
    expect((await raw.readStream('entitlement-ent-1'))[1]).toMatchObject({ data: { user: 'bob' }, metadata: { schemaVersion: 0 } });
  });
});
