import type { EntitySchema } from 'typeorm';

/** A stored event as projections see it (after upcasting). */
export interface ProjectedEvent {
  readonly type: string;
  readonly data: any;
  readonly metadata: { readonly effectiveAt?: string; readonly recordedAt?: string };
  readonly stream: string;
  readonly revision: number;
  readonly position: number;
}

/**
 * A read model kept by events: a pure function from the row as it is (or
 * null) and one event to the row as it becomes (null deletes it). It names
 * the event types it handles and the row each event belongs to. Rows carry
 * `lastRevision`: the projector skips an event whose revision the row has
 * already seen, so replaying never changes a row twice.
 */
export interface Projection<Row extends { lastRevision: number }> {
  readonly name: string;
  readonly entity: EntitySchema<Row>;
  readonly handles: readonly string[];
  keyOf(event: ProjectedEvent): string;
  evolve(row: Row | null, event: ProjectedEvent): Row | null;
}
