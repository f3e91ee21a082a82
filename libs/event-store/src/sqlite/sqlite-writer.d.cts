import type Database from 'better-sqlite3';

export type WireExpected = 'any' | 'no_stream' | 'stream_exists' | number;
export interface WireAppend {
  readonly stream: string;
  readonly expected: WireExpected;
  /** [id, type, dataJson, metadataJson] */
  readonly events: readonly (readonly [string, string, string, string])[];
}
/** A subscription's checkpoint, committed with the appends of its batch: [subscriptionId, position, updatedAt]. */
export interface WireCheckpoint {
  readonly checkpoint: readonly [string, number, string];
}
export type WireWrite = WireAppend | WireCheckpoint;
export type WireError =
  | { kind: 'wrong-expected-revision'; stream: string; expected: WireExpected; actual: number; message: string }
  | { kind: 'event-id-conflict'; stream: string; eventId: string; message: string }
  | { kind: 'error'; message: string; code?: string };
export type WireResult = { ok: true; revision: number; position: number; duplicate: boolean } | { ok: false; error: WireError };

export const BUSY_TIMEOUT_MS: number;
export function createBatchWriter(db: Database.Database): { write(batch: readonly WireWrite[]): WireResult[] };
export function openWriterConnection(ctor: typeof Database, path: string, synchronous: string): Database.Database;
