import { Injectable } from '@nestjs/common';
import { InjectEventStore, NO_STREAM_REVISION, type AppendResult, type EventStore, type ExpectedRevision, type RecordedEvent } from '@el/event-store';
import type { DomainEvent } from '@el/domain';
import { deterministicId } from '@el/platform';
import { LedgerError } from '../ledger.errors';

export interface LoadedStream<E extends DomainEvent> {
  readonly stream: string;
  /** The events read: the whole stream, or those after a snapshot (from revision `from`). */
  readonly events: E[];
  readonly recorded: readonly RecordedEvent[];
  /** The revision of the first event read: 0, or the one after the snapshot the stream was loaded from. */
  readonly from: number;
  /** Revision of the last event; -1 when the stream does not exist. */
  readonly revision: number;
  /** Position of the last event; 0 when the stream does not exist. */
  readonly position: number;
}

/** A stored event as a domain event (the store has upcast it to its newest shape already). */
function toDomainEvent<E extends DomainEvent>(r: RecordedEvent): E {
  return { type: r.type, data: r.data, metadata: r.metadata } as unknown as E;
}

/** The id of the i-th event a command writes to a stream: retries write the same ids. */
export function eventIdFor(commandId: string, stream: string, index: number): string {
  return deterministicId('event', commandId, stream, index);
}

@Injectable()
export class EventStreams {
  constructor(@InjectEventStore() readonly store: EventStore) {}

  /** The whole stream, or (`after` a snapshot's revision and position) the events after it. */
  async load<E extends DomainEvent>(stream: string, after?: { readonly revision: number; readonly position: number }): Promise<LoadedStream<E>> {
    const recorded = await this.store.readStream(stream, after ? { fromRevision: after.revision + 1 } : {});
    const last = recorded[recorded.length - 1];
    return {
      stream,
      recorded,
      events: recorded.map((r) => toDomainEvent<E>(r)),
      from: after ? after.revision + 1 : 0,
      revision: last ? last.revision : after ? after.revision : NO_STREAM_REVISION,
      position: last ? last.position : after ? after.position : 0,
    };
  }

  /**
   * Appends a command's events with ids derived from the command id, so a
   * retried command collapses into the original append at the store.
   */
  append(stream: string, events: readonly DomainEvent[], expectedRevision: ExpectedRevision, commandId: string): Promise<AppendResult> {
    return this.store.append(
      stream,
      events.map((e, i) => ({ id: eventIdFor(commandId, stream, i), type: e.type, data: e.data, metadata: e.metadata as unknown as Record<string, unknown> })),
      { expectedRevision },
    );
  }

  /** Events a command already wrote to this stream (found by their derived ids). */
  writtenBy(loaded: LoadedStream<DomainEvent>, commandId: string): RecordedEvent[] {
    const firstId = eventIdFor(commandId, loaded.stream, 0);
    const start = loaded.recorded.findIndex((r) => r.id === firstId);
    if (start < 0) return [];
    const out: RecordedEvent[] = [];
    for (let i = start; i < loaded.recorded.length && loaded.recorded[i]!.id === eventIdFor(commandId, loaded.stream, i - start); i++) {
      out.push(loaded.recorded[i]!);
    }
    return out;
  }

  /**
   * Events a command already wrote to this stream, also when the stream was loaded from a snapshot
   * taken after them: the store finds the first one by its id, and they are read from there.
   */
  async findWrittenBy(loaded: LoadedStream<DomainEvent>, commandId: string): Promise<RecordedEvent[]> {
    const read = this.writtenBy(loaded, commandId);
    if (read.length > 0 || loaded.from === 0) return read;
    const at = await this.store.revisionOf(loaded.stream, eventIdFor(commandId, loaded.stream, 0));
    if (at === null || at >= loaded.from) return [];
    const from = await this.store.readStream(loaded.stream, { fromRevision: at, maxCount: loaded.from - at });
    return this.writtenBy({ ...loaded, recorded: from, from: at }, commandId);
  }

  static expected(loaded: { revision: number }): ExpectedRevision {
    return loaded.revision === NO_STREAM_REVISION ? 'no_stream' : loaded.revision;
  }
}

/**
 * A command with an Idempotency-Key found the events its key already wrote: a
 * retry of the same request replays them, the key with another request is refused.
 */
export function assertSameRequest(written: readonly RecordedEvent[], requestHash: string | undefined, details: Record<string, unknown>): void {
  const stored = written[0]?.metadata['requestHash'];
  if (requestHash !== undefined && stored !== undefined && stored !== requestHash) {
    throw new LedgerError('IDEMPOTENCY.KEY_REUSED', 'this Idempotency-Key was already used with a different request', details);
  }
}
