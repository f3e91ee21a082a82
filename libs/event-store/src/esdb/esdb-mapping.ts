import type { AppendExpectedRevision, CurrentRevision, Position } from '@eventstore/db-client';
import { NO_STREAM_REVISION, WrongExpectedRevisionError, type ExpectedRevision, type RecordedEvent } from '../event-store.port';

/**
 * Pure mappings between the EventStore port and @eventstore/db-client:
 * revisions and positions (bigint there, safe integers here), expected
 * revisions, errors, and recorded events. Unit-tested without a server.
 */

/** The port's positions are numbers; EventStoreDB's are byte offsets in its log (bigint). */
export function toPortPosition(position: Position): number {
  // Events appended over gRPC are each their own implicit transaction: commit === prepare. The commit
  // position orders $all; an explicit (legacy TCP) transaction would share one commit position.
  return safeNumber(position.commit, 'commit position');
}

/** A position to read $all from (inclusive): the port's `after` is exclusive, callers drop events at `after`. */
export function toEsdbPosition(position: number): Position {
  const p = BigInt(position);
  return { commit: p, prepare: p };
}

export function toPortRevision(revision: bigint): number {
  return safeNumber(revision, 'stream revision');
}

export function toEsdbExpectedRevision(expected: ExpectedRevision): AppendExpectedRevision {
  if (expected === 'any' || expected === 'no_stream' || expected === 'stream_exists') return expected;
  if (!Number.isSafeInteger(expected) || expected < NO_STREAM_REVISION) throw new TypeError(`expected revision must be an integer >= -1, got ${String(expected)}`);
  return expected === NO_STREAM_REVISION ? 'no_stream' : BigInt(expected);
}

/** EventStoreDB's `current` revision: a bigint, or `no_stream` (the port says -1). */
export function fromEsdbCurrentRevision(current: CurrentRevision | undefined): number {
  if (current === undefined || current === 'no_stream') return NO_STREAM_REVISION;
  return toPortRevision(current);
}

/** The client's WrongExpectedVersionError → the port's concurrency error. */
export function toWrongExpectedRevision(stream: string, expected: ExpectedRevision, err: { actualVersion?: CurrentRevision }): WrongExpectedRevisionError {
  return new WrongExpectedRevisionError(stream, expected, fromEsdbCurrentRevision(err.actualVersion));
}

/** gRPC status 14 (UNAVAILABLE): the server is restarting, electing a leader, or unreachable. */
export const GRPC_UNAVAILABLE = 14;

/** Errors after which the same call may succeed: the client's UnavailableError, or a raw gRPC error with code 14. */
export function isTransient(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { type?: unknown; code?: unknown; name?: unknown };
  return e.type === 'unavailable' || e.type === 'not-leader' || e.code === GRPC_UNAVAILABLE || e.name === 'UnavailableError';
}

/** Streams holding the store's checkpoints (EventStore.checkpoints): kept with the log, never part of it. */
export const CHECKPOINT_STREAM_PREFIX = 'el-checkpoint-';

/**
 * Records that are not events of ours: EventStoreDB's own ($-prefixed types or
 * streams) and the checkpoint streams. readAll, subscribeAll and headPosition skip them.
 */
export function isSystemEvent(e: { readonly type: string; readonly streamId: string }): boolean {
  return e.type.startsWith('$') || e.streamId.startsWith('$') || e.streamId.startsWith(CHECKPOINT_STREAM_PREFIX);
}

export interface EsdbRecorded {
  readonly streamId: string;
  readonly id: string;
  readonly revision: bigint;
  readonly type: string;
  readonly created: Date;
  readonly isJson: boolean;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly position?: Position | undefined;
}

export function toRecordedEvent(e: EsdbRecorded): RecordedEvent {
  if (!e.position) {
    throw new Error(`EventStoreDB returned ${e.streamId}@${e.revision} without its $all position: the server must be 22.6 or newer`);
  }
  return {
    id: e.id,
    stream: e.streamId,
    revision: toPortRevision(e.revision),
    position: toPortPosition(e.position),
    type: e.type,
    data: e.isJson ? e.data : decodeBinary(e.data),
    metadata: (e.metadata ?? {}) as Record<string, unknown>,
    recordedAt: e.created.toISOString(),
  };
}

function decodeBinary(data: unknown): unknown {
  if (data instanceof Uint8Array) {
    const text = Buffer.from(data).toString('utf8');
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return data;
}

function safeNumber(value: bigint, what: string): number {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`EventStoreDB ${what} ${value} does not fit the port's safe integer`);
  return Number(value);
}
