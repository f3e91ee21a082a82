import { WrongExpectedVersionError } from '@eventstore/db-client';
import { WrongExpectedRevisionError } from '../event-store.port';
import {
  fromEsdbCurrentRevision,
  GRPC_UNAVAILABLE,
  isSystemEvent,
  isTransient,
  toEsdbExpectedRevision,
  toEsdbPosition,
  toPortPosition,
  toPortRevision,
  toRecordedEvent,
  toWrongExpectedRevision,
} from './esdb-mapping';

describe('EventStoreDB mapping', () => {
  describe('revisions', () => {
    it('maps the port expected revision to the client: keywords as they are, numbers to bigint, -1 to no_stream', () => {
      expect(toEsdbExpectedRevision('any')).toBe('any');
      expect(toEsdbExpectedRevision('no_stream')).toBe('no_stream');
      expect(toEsdbExpectedRevision('stream_exists')).toBe('stream_exists');
      expect(toEsdbExpectedRevision(0)).toBe(0n);
      expect(toEsdbExpectedRevision(41)).toBe(41n);
      expect(toEsdbExpectedRevision(-1)).toBe('no_stream');
    });

    it('refuses expected revisions that are not integers >= -1', () => {
      expect(() => toEsdbExpectedRevision(-2)).toThrow(/integer >= -1/);
      expect(() => toEsdbExpectedRevision(1.5)).toThrow(/integer >= -1/);
    });

    it('maps the current revision back: bigint to number, no_stream to -1', () => {
      expect(fromEsdbCurrentRevision(7n)).toBe(7);
      expect(fromEsdbCurrentRevision('no_stream')).toBe(-1);
      expect(fromEsdbCurrentRevision(undefined)).toBe(-1);
    });

    it('refuses revisions beyond a safe integer instead of rounding them', () => {
      expect(toPortRevision(9_007_199_254_740_991n)).toBe(Number.MAX_SAFE_INTEGER);
      expect(() => toPortRevision(9_007_199_254_740_992n)).toThrow(RangeError);
    });
  });

  describe('positions', () => {
    it('uses the commit position as the port position, and reads from it as commit = prepare', () => {
      expect(toPortPosition({ commit: 1_234_567n, prepare: 1_234_567n })).toBe(1_234_567);
      expect(toEsdbPosition(1_234_567)).toEqual({ commit: 1_234_567n, prepare: 1_234_567n });
    });

    it('refuses positions that do not fit a safe integer', () => {
      expect(() => toPortPosition({ commit: 2n ** 60n, prepare: 2n ** 60n })).toThrow(/safe integer/);
    });
  });

  describe('errors', () => {
    it("maps the client's WrongExpectedVersionError to the port's concurrency error with the actual revision", () => {
      const err = new WrongExpectedVersionError(undefined, { streamName: 'entitlement-1', expected: 3n, current: 5n });
      const mapped = toWrongExpectedRevision('entitlement-1', 3, err);
      expect(mapped).toBeInstanceOf(WrongExpectedRevisionError);
      expect(mapped).toMatchObject({ stream: 'entitlement-1', expected: 3, actual: 5, code: 'CONCURRENCY.WRONG_EXPECTED_REVISION' });
      const missing = toWrongExpectedRevision('s', 'stream_exists', new WrongExpectedVersionError(undefined, { streamName: 's', expected: 'stream_exists', current: 'no_stream' }));
      expect(missing).toMatchObject({ expected: 'stream_exists', actual: -1 });
    });

    it('treats UNAVAILABLE (the client error or a raw gRPC code 14) and not-leader as transient, nothing else', () => {
      expect(isTransient({ type: 'unavailable' })).toBe(true);
      expect(isTransient({ type: 'not-leader' })).toBe(true);
      expect(isTransient(Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: GRPC_UNAVAILABLE }))).toBe(true);
      expect(isTransient(new WrongExpectedVersionError(undefined, { streamName: 's', expected: 0n, current: 1n }))).toBe(false);
      expect(isTransient(Object.assign(new Error('3 INVALID_ARGUMENT'), { code: 3 }))).toBe(false);
      expect(isTransient(null)).toBe(false);
    });
  });

  describe('recorded events', () => {
    const base = {
      streamId: 'entitlement-1',
      id: '7b0e6f55-3c43-4a53-9a4b-9f4a1f8b2f10',
      revision: 2n,
      type: 'EntitlementGranted',
      created: new Date('2026-11-28T10:00:00.000Z'),
      isJson: true,
      data: { seats: 5 },
      metadata: { correlationId: 'c-1' },
      position: { commit: 4242n, prepare: 4242n },
    };

    it('maps a JSON event with its revision, position and commit time', () => {
      expect(toRecordedEvent(base)).toEqual({
        id: base.id,
        stream: 'entitlement-1',
        revision: 2,
        position: 4242,
        type: 'EntitlementGranted',
        data: { seats: 5 },
        metadata: { correlationId: 'c-1' },
        recordedAt: '2026-11-28T10:00:00.000Z',
      });
    });

    it('decodes binary data that holds JSON, and defaults missing metadata to {}', () => {
      const e = toRecordedEvent({ ...base, isJson: false, data: new TextEncoder().encode('{"a":1}'), metadata: undefined });
      expect(e.data).toEqual({ a: 1 });
      expect(e.metadata).toEqual({});
    });

    it('refuses an event without its $all position (a server older than 22.6)', () => {
      expect(() => toRecordedEvent({ ...base, position: undefined })).toThrow(/22\.6 or newer/);
    });

    it('recognises system events by type or stream', () => {
      expect(isSystemEvent({ type: '$metadata', streamId: '$$entitlement-1' })).toBe(true);
      expect(isSystemEvent({ type: 'Stats', streamId: '$stats-127.0.0.1:2113' })).toBe(true);
      expect(isSystemEvent({ type: 'EntitlementGranted', streamId: 'entitlement-1' })).toBe(false);
      // The store's checkpoints live beside the log, never in it.
      expect(isSystemEvent({ type: 'CheckpointStored', streamId: 'el-checkpoint-kafka-relay' })).toBe(true);
    });
  });
});
