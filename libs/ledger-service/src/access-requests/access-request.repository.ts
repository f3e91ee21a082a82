import { Injectable } from '@nestjs/common';
import { accessRequestStream, foldAccessRequest, type AccessRequestEvent, type AccessRequestState } from '@el/domain';
import type { AppendResult, RecordedEvent } from '@el/event-store';
import { EventStreams, type LoadedStream } from '../infrastructure/event-streams';

export interface LoadedAccessRequest {
  readonly requestId: string;
  readonly state: AccessRequestState;
  readonly revision: number;
  readonly position: number;
  readonly stream: LoadedStream<AccessRequestEvent>;
}

/** Loads an access request from its stream and appends to it with the revision it was loaded at. */
@Injectable()
export class AccessRequestRepository {
  constructor(private readonly streams: EventStreams) {}

  async load(requestId: string): Promise<LoadedAccessRequest> {
    const stream = await this.streams.load<AccessRequestEvent>(accessRequestStream(requestId));
    return { requestId, state: foldAccessRequest(stream.events), revision: stream.revision, position: stream.position, stream };
  }

  append(loaded: LoadedAccessRequest, events: readonly AccessRequestEvent[], commandId: string): Promise<AppendResult> {
    return this.streams.append(loaded.stream.stream, events, EventStreams.expected(loaded.stream), commandId);
  }

  writtenBy(loaded: LoadedAccessRequest, commandId: string): RecordedEvent[] {
    return this.streams.writtenBy(loaded.stream, commandId);
  }
}

/** What every access-request command answers. */
export interface AccessRequestResult {
  readonly requestId: string;
  readonly status: Exclude<AccessRequestState['status'], 'none'>;
  readonly revision: number;
  /** Global position of the last event the command wrote (or found): pass it as minPosition. */
  readonly position: number;
  readonly replayed: boolean;
  /** For an approval: the entitlement granted or extended, and the events that did it. */
  readonly entitlementId?: string;
  readonly entitlementEvents?: readonly string[];
}
