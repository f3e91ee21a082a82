import {
  CATALOG_STREAM,
  foldEntitlement,
  evolveEntitlement,
  isEntitlementEvent,
  type EntitlementEvent,
  type CatalogPublished,
  type EntitlementState,
} from '@el/domain';
import { catalogMessageV1, entitlementMessageV1, toEntitlementEventV1 } from '@el/contracts';
import type { EventStore, RecordedEvent } from '@el/event-store';
import type { OutgoingMessage } from './integration-events.port';
import { trimOldest } from '@el/platform';

/**
 * Turns stored entitlement events into ledger.entitlements.v1 messages, each
 * carrying the entitlement's full state after the change, and every catalog
 * version published into one catalog message per partition (a view must see
 * the catalog in order with the changes of whichever partition it reads).
 * States are kept per
 * entitlement and evolved event by event; when an event does not follow the
 * state held (a restart, or the cache forgot it), the state is rebuilt from
 * the entitlement's stream up to that event. Used by the Kafka relay and by
 * the in-process bus, so both publish exactly the same messages.
 */
export class EntitlementFeed {
  private readonly states = new Map<string, { revision: number; state: EntitlementState }>();

  constructor(
    private readonly store: EventStore,
    private readonly capacity = 50_000,
  ) {}

  /** The messages of `batch`, in log order; catalog versions are addressed to each of the topic's `partitions`. */
  async messages(batch: readonly RecordedEvent[], partitions = 1): Promise<OutgoingMessage[]> {
    const out: OutgoingMessage[] = [];
    for (const r of batch) {
      if (r.stream === CATALOG_STREAM && r.type === 'CatalogPublished') {
        const { version, hash, label, catalog } = (r as unknown as RecordedEvent<CatalogPublished['data']>).data;
        for (let partition = 0; partition < partitions; partition++) {
          out.push(catalogMessageV1({ position: r.position, recordedAt: r.recordedAt, version, hash, label, catalog }, partition));
        }
        continue;
      }
      if (!isEntitlementEvent(r)) continue;
      // Already in its newest shape: the store upcasts on read.
      const event = { type: r.type, data: r.data, metadata: r.metadata } as unknown as EntitlementEvent;
      const id = event.data.entitlementId;
      let held = this.states.get(id);
      if (!held || held.revision !== r.revision - 1) held = await this.rebuild(r.stream, r.revision - 1);
      const state = evolveEntitlement(held.state, event);
      this.remember(id, { revision: r.revision, state });
      if (state.status === 'none') continue;
      out.push(entitlementMessageV1(toEntitlementEventV1({ id: r.id, position: r.position, revision: r.revision, recordedAt: r.recordedAt, event }, state)));
    }
    return out;
  }

  private async rebuild(stream: string, upToRevision: number): Promise<{ revision: number; state: EntitlementState }> {
    if (upToRevision < 0) return { revision: -1, state: foldEntitlement([]) };
    const events = await this.store.readStream(stream, { maxCount: upToRevision + 1 });
    return {
      revision: upToRevision,
      state: foldEntitlement(events.map((e) => ({ type: e.type, data: e.data, metadata: e.metadata }) as unknown as EntitlementEvent)),
    };
  }

  private remember(id: string, value: { revision: number; state: EntitlementState }): void {
    this.states.delete(id);
    this.states.set(id, value);
    trimOldest(this.states, this.capacity);
  }
}

