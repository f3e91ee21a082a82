import { Injectable } from '@nestjs/common';
import { entitlementStream, foldEntitlement, type EntitlementEvent, type EntitlementState } from '@el/domain';
import type { AppendResult, RecordedEvent } from '@el/event-store';
import { EventStreams, type LoadedStream } from '../infrastructure/event-streams';

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
  constructor(private readonly streams: EventStreams) {}

  async load(entitlementId: string): Promise<LoadedEntitlement> {
    const stream = await this.streams.load<EntitlementEvent>(entitlementStream(entitlementId));
    return { entitlementId, state: foldEntitlement(stream.events), revision: stream.revision, position: stream.position, stream };
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

  /** Events `commandId` already wrote to this entitlement (empty when it never ran). */
  writtenBy(loaded: LoadedEntitlement, commandId: string): RecordedEvent[] {
    return this.streams.writtenBy(loaded.stream, commandId);
  }
}
