import { Injectable } from '@nestjs/common';
import type { DecisionRecordV1 } from '@el/contracts';
import { insertRows, placeholders } from '@el/read-models';
import { AuditLog } from '../log/audit-log';

export interface DecisionPage {
  readonly items: readonly DecisionRecordV1[];
  /** Pass as cursor for the next page; null on the last page. */
  readonly nextCursor: number | null;
}

/**
 * The enforcement decision log as the audit service keeps it (au_decisions):
 * every record once, by id, in the order received.
 */
@Injectable()
export class DecisionLogStore {
  private seq: number | null = null;

  constructor(private readonly log: AuditLog) {}

  /** Stores the records not stored yet (by id); returns how many were new. */
  keep(records: readonly DecisionRecordV1[]): Promise<number> {
    return this.log.inTurn(async () => {
      const db = this.log.db;
      if (this.seq === null) {
        const [row] = (await db.query('SELECT MAX(seq) AS seq FROM au_decisions')) as { seq: string | number | null }[];
        this.seq = Number(row?.seq ?? 0);
      }
      const p = placeholders(db);
      const before = this.seq;
      const rows = records.map((r) => [r.id, r.request.customerId, r.decidedAt, r.position, r.decision.code, r.decision.allowed ? 1 : 0, JSON.stringify(r), (this.seq = this.seq! + 1)]);
      await db.transaction((tx) => insertRows(tx, p, 'au_decisions (id, customer_id, decided_at, position, code, allowed, record, seq)', rows, { suffix: 'ON CONFLICT (id) DO NOTHING', rowsPerStatement: 100 }));
      return this.seq - before;
    });
  }

  async get(id: string): Promise<DecisionRecordV1 | null> {
    const [row] = (await this.log.db.query(`SELECT record FROM au_decisions WHERE id = ${placeholders(this.log.db)(1)}`, [id])) as { record: string }[];
    return row ? (JSON.parse(row.record) as DecisionRecordV1) : null;
  }

  async page(q: { customerId?: string; code?: string; cursor: number; limit: number }): Promise<DecisionPage> {
    const p = placeholders(this.log.db);
    const params: unknown[] = [];
    const $ = (v: unknown) => (params.push(v), p(params.length));
    const where = [`seq > ${$(q.cursor)}`];
    if (q.customerId !== undefined) where.push(`customer_id = ${$(q.customerId)}`);
    if (q.code !== undefined) where.push(`code = ${$(q.code)}`);
    const rows = (await this.log.db.query(`SELECT seq, record FROM au_decisions WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ${$(q.limit + 1)}`, params)) as { seq: string | number; record: string }[];
    const more = rows.length > q.limit;
    const items = rows.slice(0, q.limit);
    return { items: items.map((r) => JSON.parse(r.record) as DecisionRecordV1), nextCursor: more ? Number(items[items.length - 1]!.seq) : null };
  }
}
