import type { AppendOptions, AppendResult, BatchHandler, EventStore, EventToAppend, ReadAllOptions, ReadStreamOptions, RecordedEvent, SubscribeOptions, Subscription } from './event-store.port';

/** What an upcaster sees of a stored event, and gives back (same object when nothing changed). */
export interface StoredShape {
  readonly type: string;
  readonly data: unknown;
  readonly metadata: { readonly schemaVersion?: number } & Record<string, unknown>;
}
export type Upcast = <E extends StoredShape>(event: E) => E;

/**
 * The one place where stored events are upcast: an EventStore whose reads —
 * `readStream`, `readAll`, `subscribeAll` — hand out every event in its
 * newest shape, so the command side, the projector, the relay and the
 * in-process bus all see the same, current events and none of them upcasts
 * on its own. Writes pass through unchanged (new events are written in the
 * newest shape). An event with no upcaster is handed out as it is, its JSON
 * still undecoded.
 */
export class UpcastingEventStore implements EventStore {
  constructor(
    private readonly inner: EventStore,
    private readonly upcast: Upcast,
  ) {}

  get densePositions(): boolean {
    return this.inner.densePositions;
  }

  /** The adapter underneath: events exactly as stored, before any upcaster (the audit log hashes these). */
  get stored(): EventStore {
    return this.inner;
  }

  get checkpoints() {
    return this.inner.checkpoints;
  }

  append(stream: string, events: readonly EventToAppend[], options?: AppendOptions): Promise<AppendResult> {
    return this.inner.append(stream, events, options);
  }

  async readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    return this.upcastAll(await this.inner.readStream(stream, options));
  }

  async readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    return this.upcastAll(await this.inner.readAll(options));
  }

  subscribeAll(handler: BatchHandler, options?: SubscribeOptions): Subscription {
    return this.inner.subscribeAll((events) => handler(this.upcastAll(events)), options);
  }

  revisionOf(stream: string, id: string): Promise<number | null> {
    return this.inner.revisionOf(stream, id);
  }

  headPosition(): Promise<number> {
    return this.inner.headPosition();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** Stored events in their current shapes (what every read through this store gives). */
  upcastAll<A extends readonly RecordedEvent[]>(events: A): A {
    let out: RecordedEvent[] | null = null;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const up = this.upcast(e as StoredShape & RecordedEvent);
      if (up === e) continue;
      out ??= events.slice();
      out[i] = { id: e.id, stream: e.stream, revision: e.revision, position: e.position, type: up.type, data: up.data, metadata: up.metadata, recordedAt: e.recordedAt };
    }
    return (out ?? events) as A;
  }
}

/** The events as stored, without upcasting: the adapter under an UpcastingEventStore, or the store itself. */
export function storedEvents(store: EventStore): EventStore {
  return store instanceof UpcastingEventStore ? store.stored : store;
}

/** Stored events in their current shapes: what reading them through `store` would give. */
export function asRead(store: EventStore, events: readonly RecordedEvent[]): readonly RecordedEvent[] {
  return store instanceof UpcastingEventStore ? store.upcastAll(events) : events;
}
