import { Inject, Injectable, Optional } from '@nestjs/common';
import type { DecisionRequestV1, DecisionUsageV1 } from '@el/contracts';
import { CATALOG_STREAM, upcastEvent, type Catalog, type Decision } from '@el/domain';
import type { RecordedEvent } from '@el/event-store';
import { placeholders } from '@el/read-models';
import { AuditError } from '../audit.errors';
import { AuditLog } from '../log/audit-log';
import { catalogInForceAt, replayDecision } from './replay-decision';

export const REPLAY_FALLBACK_CATALOG = Symbol('REPLAY_FALLBACK_CATALOG');

export interface ReplayInput {
  readonly request: DecisionRequestV1;
  readonly position: number;
  readonly atMs: number;
  readonly usage: readonly DecisionUsageV1[];
}

export interface Replayed {
  readonly decision: Decision;
  readonly position: number;
  readonly catalogVersion: number | null;
  /** Events of the history it was recomputed from (the customer's entitlements and the catalog, up to the position). */
  readonly events: number;
}

/**
 * Recomputes a check's decision from the history the audit log holds (and
 * proves): the customer's events and the catalog's up to the position, as
 * stored, upcasted as every reader sees them, folded by replayDecision.
 */
@Injectable()
export class DecisionReplayer {
  constructor(
    private readonly log: AuditLog,
    @Optional() @Inject(REPLAY_FALLBACK_CATALOG) private readonly fallbackCatalog?: Catalog,
  ) {}

  async replay(input: ReplayInput): Promise<Replayed> {
    if (input.position > this.log.lastPosition) {
      throw new AuditError('AUDIT.POSITION_NOT_LOGGED', `position ${input.position} is not in the audit log yet (it holds events up to position ${this.log.lastPosition})`, { position: input.position, lastPosition: this.log.lastPosition });
    }
    const p = placeholders(this.log.db);
    type Row = { position: string | number; stream: string; revision: string | number; type: string; entry: string; recorded_at: string; event_id: string };
    const columns = 'l.position, l.stream, l.revision, l.type, l.entry, l.recorded_at, l.event_id';
    // The customer's events (by its references) and the catalog's (by stream), each through its index.
    const customer = (await this.log.db.query(
      `SELECT ${columns} FROM au_refs r JOIN au_leaves l ON l.leaf_index = r.leaf_index WHERE r.kind = 'customer' AND r.ref = ${p(1)} AND l.position <= ${p(2)} ORDER BY r.leaf_index`,
      [input.request.customerId, input.position],
    )) as Row[];
    const catalog = (await this.log.db.query(`SELECT ${columns} FROM au_leaves l WHERE l.stream = ${p(1)} AND l.position <= ${p(2)} ORDER BY l.leaf_index`, [CATALOG_STREAM, input.position])) as Row[];
    const rows = [...customer, ...catalog];
    const events: RecordedEvent[] = rows.map((r) => {
      const entry = JSON.parse(r.entry) as { data: unknown; metadata: Record<string, unknown> };
      const up = upcastEvent({ type: r.type, data: entry.data, metadata: entry.metadata as { schemaVersion?: number } & Record<string, unknown> });
      return { id: r.event_id, position: Number(r.position), stream: r.stream, revision: Number(r.revision), type: up.type, data: up.data, metadata: up.metadata, recordedAt: r.recorded_at };
    });
    const decision = replayDecision({ events, request: input.request, atMs: input.atMs, usage: input.usage, position: input.position, ...(this.fallbackCatalog ? { fallbackCatalog: this.fallbackCatalog } : {}) });
    return { decision, position: input.position, catalogVersion: catalogInForceAt(events, input.position)?.version ?? null, events: events.length };
  }
}
