import { Inject, Injectable, Optional } from '@nestjs/common';
import { ENTITLEMENT_FOLD_VERSION, entitlementStream, foldEntitlementFrom, initialEntitlementState, reviveEntitlementState, type EntitlementEvent, type EntitlementJson, type EntitlementState } from '@el/domain';
import type { AppendResult, RecordedEvent } from '@el/event-store';
import { EventStreams, type LoadedStream } from '../infrastructure/event-streams';
import { StreamSnapshots } from '../infrastructure/stream-snapshots';

/** An entitlement as loaded from its stream: the folded state and where the stream stands. */
export interface LoadedEntitlement {
  readonly entitlementId: string;
  readonly state: EntitlementState;
  /** Revision of the stream's last event (-1 when the entitlement does not exist): the ETag. */
  readonly revision: number;
  /** Global position of the stream's last event (0 when it does not exist). */
  readonly position: number;
  readonly stream: LoadedStream<EntitlementEvent>;
}

/**
 * Loads an entitlement from its event stream and appends to it, with the
 * revision it was loaded at as the expected revision: a write decided on a
 * state that has moved on fails instead of overwriting.
 */
@Injectable()
export class EntitlementRepository {
  constructor(
    private readonly streams: EventStreams,
    // Absent when a test builds the repository by hand: streams are then folded from their start.
    @Optional() @Inject(StreamSnapshots) private readonly snapshots: StreamSnapshots | null = null,
  ) {}

  /** The newest snapshot (when there is one of this fold's version) and the events after it, folded. */
  async load(entitlementId: string): Promise<LoadedEntitlement> {
    const name = entitlementStream(entitlementId);
    // This process's newest state, or one read back from the snapshot file (JSON: its users an array).
    const snapshot = this.snapshots?.load<EntitlementState | EntitlementJson>(name, ENTITLEMENT_FOLD_VERSION) ?? null;
    const stream = await this.streams.load<EntitlementEvent>(name, snapshot ?? undefined);
    const state = foldEntitlementFrom(snapshot ? reviveEntitlementState(snapshot.state) : initialEntitlementState, stream.events);
    if (state.status !== 'none') {
      const size = state.assignedUsers.size + Object.keys(state.devices).length;
      this.snapshots?.loaded({ stream: name, version: ENTITLEMENT_FOLD_VERSION, revision: stream.revision, position: stream.position, state }, size);
    }
    return { entitlementId, state, revision: stream.revision, position: stream.position, stream };
  }

  /**
   * The stream's events, not folded (an as-of read folds its own selection of
   * them), and the customer its grant names: an entitlement never changes customer.
   */
  async history(entitlementId: string): Promise<{ readonly events: readonly EntitlementEvent[]; readonly customerId: string | null }> {
    const { events } = await this.streams.load<EntitlementEvent>(entitlementStream(entitlementId));
    const grant = events.find((e) => e.type === 'EntitlementGranted');
    return { events, customerId: grant?.type === 'EntitlementGranted' ? grant.data.customerId : null };
  }

  /** Appends events decided on `loaded`; ids derive from `commandId`, so a retried command writes nothing twice. */
  append(loaded: LoadedEntitlement, events: readonly EntitlementEvent[], commandId: string): Promise<AppendResult> {
    return this.streams.append(loaded.stream.stream, events, EventStreams.expected(loaded.stream), commandId);
  }

  /** Events `commandId` already wrote to this entitlement (empty when it never ran), also before the snapshot it was loaded from. */
  writtenBy(loaded: LoadedEntitlement, commandId: string): Promise<RecordedEvent[]> {
    return this.streams.findWrittenBy(loaded.stream, commandId);
  }
}
