import { Injectable } from '@nestjs/common';
import { placeholders } from '@el/read-models';
import { AuditLog } from '../log/audit-log';

export const HISTORY_KINDS = [
  { param: 'customerId', kind: 'customer' },
  { param: 'entitlementId', kind: 'entitlement' },
  { param: 'actor', kind: 'actor' },
  { param: 'correlationId', kind: 'correlation' },
] as const;

export interface HistoryQuery {
  readonly kind: (typeof HISTORY_KINDS)[number]['kind'];
  readonly ref: string;
  readonly types?: readonly string[];
  readonly recordedFrom?: string;
  readonly recordedBefore?: string;
  /** Leaf index after which to continue (-1: from the start). */
  readonly cursor: number;
  readonly limit: number;
}

export interface HistoryItem {
  readonly position: number;
  readonly leafIndex: number;
  readonly stream: string;
  readonly revision: number;
  readonly type: string;
  /** When the event store committed it. */
  readonly recordedAt: string;
  /** When it takes effect in the business's timeline (metadata.effectiveAt), when the event says. */
  readonly effectiveAt: string | null;
  /** Who: {type, id} as recorded (operator, erp, service, user, system). */
  readonly actor: unknown;
  /** erp, api, portal, system. */
  readonly source: unknown;
  /** Why, when the event carries a reason. */
  readonly reason: string | null;
  readonly correlationId: unknown;
  /** The command it came from. */
  readonly causationId: unknown;
  readonly idempotencyKey: unknown;
  readonly data: unknown;
}

export interface HistoryPage {
  readonly items: readonly HistoryItem[];
  /** Pass as cursor for the next page; null on the last page. */
  readonly nextCursor: number | null;
  /**
   * The newest ledger position the audit log held when it answered: events after it are not in
   * the answer yet (after a start the audit log catches up behind the rest of the process; its
   * `/health` component says how far behind it is).
   */
  readonly lastPosition: number;
}

/** History queries over the audit log's references (au_refs: kind, ref, leaf — its primary key serves each query in order). */
@Injectable()
export class AuditHistory {
  constructor(private readonly log: AuditLog) {}

  async page(q: HistoryQuery): Promise<HistoryPage> {
    const lastPosition = this.log.lastPosition;
    const p = placeholders(this.log.db);
    const params: unknown[] = [];
    const $ = (v: unknown) => (params.push(v), p(params.length));
    const conditions = [`r.kind = ${$(q.kind)}`, `r.ref = ${$(q.ref)}`, `r.leaf_index > ${$(q.cursor)}`];
    if (q.types?.length) conditions.push(`l.type IN (${q.types.map((t) => $(t)).join(', ')})`);
    if (q.recordedFrom) conditions.push(`l.recorded_at >= ${$(new Date(q.recordedFrom).toISOString())}`);
    if (q.recordedBefore) conditions.push(`l.recorded_at < ${$(new Date(q.recordedBefore).toISOString())}`);
    const rows = (await this.log.db.query(
      `SELECT l.leaf_index, l.position, l.stream, l.revision, l.type, l.entry, l.recorded_at FROM au_refs r JOIN au_leaves l ON l.leaf_index = r.leaf_index WHERE ${conditions.join(' AND ')} ORDER BY r.leaf_index LIMIT ${$(q.limit + 1)}`,
      params,
    )) as { leaf_index: string | number; position: string | number; stream: string; revision: string | number; type: string; entry: string; recorded_at: string }[];
    const more = rows.length > q.limit;
    const items = rows.slice(0, q.limit).map((r): HistoryItem => {
      const entry = JSON.parse(r.entry) as { data: Record<string, unknown> | null; metadata: Record<string, unknown> };
      const m = entry.metadata ?? {};
      const reason = entry.data && typeof entry.data['reason'] === 'string' ? entry.data['reason'] : null;
      return {
        position: Number(r.position),
        leafIndex: Number(r.leaf_index),
        stream: r.stream,
        revision: Number(r.revision),
        type: r.type,
        recordedAt: r.recorded_at,
        effectiveAt: typeof m['effectiveAt'] === 'string' ? m['effectiveAt'] : null,
        actor: m['actor'] ?? null,
        source: m['source'] ?? null,
        reason,
        correlationId: m['correlationId'] ?? null,
        causationId: m['causationId'] ?? null,
        idempotencyKey: m['idempotencyKey'] ?? null,
        data: entry.data,
      };
    });
    return { items, nextCursor: more ? items[items.length - 1]!.leafIndex : null, lastPosition };
  }
}
