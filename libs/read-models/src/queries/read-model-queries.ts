import type { DataSource, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { dialectOf, type Dialect } from '../projector/sql';
import { AccessRequestEntity, CustomerSummaryEntity, DunningEntity, EntitlementEntity, OrderEntity, SeatAssignmentEntity } from '../schema/entities';
import { reviveEntitlementState, type Entitlement, type StoredEntitlement } from '@el/domain';
import type { AccessRequestRow, CustomerSummaryRow, DunningRow, EntitlementRow, OrderRow, SeatAssignmentRow } from '../schema/rows';

export interface PageRequest {
  readonly limit?: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  readonly cursor?: string;
}

export interface Page<T> {
  readonly items: T[];
  /** Pass as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

export interface EntitlementFilter {
  readonly customerId?: string;
  readonly status?: EntitlementRow['status'];
  readonly productId?: string;
  /** Active or suspended entitlements whose term ends between now and now + N days, soonest first. */
  readonly expiringWithinDays?: number;
  readonly now: Date;
}

export interface CustomerEntitlementStates {
  /** The read models' position the states are at. */
  readonly position: number;
  readonly entitlements: readonly { readonly entitlementId: string; readonly state: Entitlement }[];
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
  readonly code = 'QUERY.INVALID_CURSOR';
}

/** Text in code unit order, nulls first (as a sort key). */
function byKeys(a: string | null, b: string | null): number {
  return a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1;
}

function encodeCursor(values: readonly string[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

function decodeCursor(cursor: string, size: number): string[] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === size && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    /* fall through */
  }
  throw new InvalidCursorError('cursor is not one this API returned');
}

/**
 * Keyset pagination: rows ordered by (sortKey, id); a cursor holds the last
 * row's pair, and the next page starts strictly after it. Stable under
 * concurrent inserts, and every page is an index range scan.
 */
async function paginate<Row extends ObjectLiteral>(
  qb: SelectQueryBuilder<Row>,
  alias: string,
  sortProperty: keyof Row & string,
  idProperty: keyof Row & string,
  page: PageRequest,
): Promise<Page<Row>> {
  const limit = Math.min(Math.max(page.limit ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
  if (page.cursor) {
    const [sort, id] = decodeCursor(page.cursor, 2);
    // A row-value comparison: the index range starts right after the cursor (an OR of the two columns is not one range).
    qb.andWhere(`(${alias}.${sortProperty}, ${alias}.${idProperty}) > (:cursorSort, :cursorId)`, { cursorSort: sort, cursorId: id });
  }
  const rows = await qb.orderBy(`${alias}.${sortProperty}`, 'ASC').addOrderBy(`${alias}.${idProperty}`, 'ASC').take(limit + 1).getMany();
  const items = rows.slice(0, limit);
  const last = items[items.length - 1] as Record<string, unknown> | undefined;
  return { items, nextCursor: rows.length > limit && last ? encodeCursor([String(last[sortProperty]), String(last[idProperty])]) : null };
}

export interface CustomerSearch {
  /** Customer ids that start with this (case-sensitive); empty: every customer. */
  readonly prefix: string;
  /**
   * The customers the viewer may see: null for one who sees all. Required, so
   * a search cannot leave out the viewer's scope by accident.
   */
  readonly within: readonly string[] | null;
}

/** The first string after every string that starts with `prefix`, in code point (UTF-8 byte) order; null: there is none. */
export function prefixEnd(prefix: string): string | null {
  const points = [...prefix];
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) return points.join('') + String.fromCodePoint(last === 0xd7ff ? 0xe000 : last + 1);
  }
  return null;
}

/**
 * The customer search as one statement: summaries of customers holding
 * entitlements, whose id lies in [prefix, prefixEnd(prefix)) and after the
 * cursor, in id order — one range of an index. Ids compare bytewise: SQLite's
 * BINARY text (the primary key), PostgreSQL's "C" collation (the index
 * rm_customer_summaries_customer_c; in the database's own collation a prefix
 * is not one range).
 */
export function customerSearchSql(dialect: Dialect, search: CustomerSearch, after: string | null, limit: number): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const p = (v: unknown) => (params.push(v), dialect === 'postgres' ? `$${params.length}` : '?');
  const id = dialect === 'postgres' ? 'customer_id COLLATE "C"' : 'customer_id';
  const where = ['entitlements > 0'];
  if (search.prefix !== '') {
    where.push(`${id} >= ${p(search.prefix)}`);
    const end = prefixEnd(search.prefix);
    if (end !== null) where.push(`${id} < ${p(end)}`);
  }
  if (after !== null) where.push(`${id} > ${p(after)}`);
  if (search.within !== null) where.push(`customer_id IN (${search.within.map(p).join(', ')})`);
  return {
    sql: `SELECT customer_id, entitlements, active, suspended, expired, revoked, seats, seats_assigned, products, last_position FROM rm_customer_summaries WHERE ${where.join(' AND ')} ORDER BY ${id} LIMIT ${p(limit)}`,
    params,
  };
}

/** The queries the read models answer. */
export class ReadModelQueries {
  constructor(private readonly ds: DataSource) {}

  /**
   * A column a condition tests on each row, but whose index must not drive the query: SQLite would pick
   * an index on an equality (status, product) over the range the query is ordered by, and sort what it
   * finds. A unary + keeps the term out of SQLite's choice of index (as SQLite documents); PostgreSQL
   * weighs the indexes by its statistics.
   */
  private notIndexed(alias: string, property: string, column: string): string {
    return dialectOf(this.ds) === 'sqlite' ? `+${alias}.${column}` : `${alias}.${property}`;
  }

  listEntitlements(filter: EntitlementFilter, page: PageRequest): Promise<Page<EntitlementRow>> {
    const qb = this.ds.getRepository(EntitlementEntity).createQueryBuilder('e');
    if (filter.customerId !== undefined) qb.andWhere('e.customerId = :customerId', { customerId: filter.customerId });
    if (filter.expiringWithinDays !== undefined) {
      // A range of rm_entitlements_valid_until (of rm_entitlements_customer_valid_until for one customer), the
      // product and the status checked on each row.
      const from = filter.now.toISOString();
      const to = new Date(filter.now.getTime() + filter.expiringWithinDays * 86_400_000).toISOString();
      if (filter.productId !== undefined) qb.andWhere(`${this.notIndexed('e', 'productId', 'product_id')} = :productId`, { productId: filter.productId });
      qb.andWhere(`${this.notIndexed('e', 'status', 'status')} IN (:...live)`, { live: filter.status ? [filter.status] : ['active', 'suspended'] }).andWhere('e.validUntil IS NOT NULL AND e.validUntil >= :from AND e.validUntil <= :to', { from, to });
      return paginate(qb, 'e', 'validUntil', 'entitlementId', page);
    }
    if (filter.productId !== undefined) qb.andWhere('e.productId = :productId', { productId: filter.productId });
    if (filter.status !== undefined) qb.andWhere('e.status = :status', { status: filter.status });
    return paginate(qb, 'e', 'grantedAt', 'entitlementId', page);
  }

  /**
   * Every entitlement of a customer (its domain state, oldest grant first)
   * and the position of the checkpoint `checkpointId`, in one statement: one
   * snapshot, so the states are exactly those at that position. What a
   * license token says (hot path: one round trip, no entity mapping).
   */
  async customerEntitlementStates(customerId: string, checkpointId: string): Promise<CustomerEntitlementStates> {
    const [a, b] = dialectOf(this.ds) === 'postgres' ? ['$1', '$2'] : ['?', '?'];
    // The one-row FROM keeps the checkpoint when the customer has no entitlement.
    // Ordered here, not by the database: a sort after the outer joins would be a temporary one, and a customer's entitlements are all read anyway.
    const rows = (
      (await this.ds.query(
        `SELECT c.position AS position, e.entitlement_id AS entitlement_id, e.granted_at AS granted_at, e.state AS state FROM (SELECT 1 AS one) AS one
       LEFT JOIN rm_checkpoints c ON c.subscription_id = ${a}
       LEFT JOIN rm_entitlements e ON e.customer_id = ${b}`,
        [checkpointId, customerId],
      )) as { position: string | number | null; entitlement_id: string | null; granted_at: string | null; state: string | null }[]
    ).sort((x, y) => byKeys(x.granted_at, y.granted_at) || byKeys(x.entitlement_id, y.entitlement_id));
    return {
      position: rows[0]?.position == null ? 0 : Number(rows[0].position),
      entitlements: rows.filter((r) => r.entitlement_id !== null).map((r) => ({ entitlementId: r.entitlement_id!, state: reviveEntitlementState(JSON.parse(r.state!) as StoredEntitlement) })),
    };
  }

  getEntitlement(entitlementId: string): Promise<EntitlementRow | null> {
    return this.ds.getRepository(EntitlementEntity).findOneBy({ entitlementId });
  }

  listSeatAssignments(entitlementId: string, page: PageRequest): Promise<Page<SeatAssignmentRow>> {
    const qb = this.ds.getRepository(SeatAssignmentEntity).createQueryBuilder('s').where('s.entitlementId = :entitlementId', { entitlementId });
    return paginate(qb, 's', 'userId', 'entitlementId', page);
  }

  getOrder(orderId: string): Promise<OrderRow | null> {
    return this.ds.getRepository(OrderEntity).findOneBy({ orderId });
  }

  listOrders(filter: { customerId?: string; status?: OrderRow['status'] }, page: PageRequest): Promise<Page<OrderRow>> {
    const qb = this.ds.getRepository(OrderEntity).createQueryBuilder('o');
    if (filter.customerId !== undefined) qb.andWhere('o.customerId = :customerId', { customerId: filter.customerId });
    if (filter.status !== undefined) qb.andWhere('o.status = :status', { status: filter.status });
    return paginate(qb, 'o', 'receivedAt', 'orderId', page);
  }

  listAccessRequests(filter: { status?: AccessRequestRow['status']; customerId?: string }, page: PageRequest): Promise<Page<AccessRequestRow>> {
    const qb = this.ds.getRepository(AccessRequestEntity).createQueryBuilder('a');
    if (filter.status !== undefined) qb.andWhere('a.status = :status', { status: filter.status });
    if (filter.customerId !== undefined) qb.andWhere('a.customerId = :customerId', { customerId: filter.customerId });
    return paginate(qb, 'a', 'requestedAt', 'requestId', page);
  }

  customerSummary(customerId: string): Promise<CustomerSummaryRow | null> {
    return this.ds.getRepository(CustomerSummaryEntity).findOneBy({ customerId });
  }

  /** Customers holding entitlements whose id starts with a prefix, by id, within what the viewer may see (keyset pages). */
  async searchCustomers(search: CustomerSearch, page: PageRequest): Promise<Page<CustomerSummaryRow>> {
    const limit = Math.min(Math.max(page.limit ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
    const after = page.cursor ? decodeCursor(page.cursor, 1)[0]! : null;
    if (search.within !== null && search.within.length === 0) return { items: [], nextCursor: null };
    const { sql, params } = customerSearchSql(dialectOf(this.ds), search, after, limit + 1);
    const rows = (await this.ds.query(sql, params)) as Record<string, unknown>[];
    const items = rows.slice(0, limit).map(
      (r): CustomerSummaryRow => ({
        customerId: r['customer_id'] as string,
        entitlements: Number(r['entitlements']),
        active: Number(r['active']),
        suspended: Number(r['suspended']),
        expired: Number(r['expired']),
        revoked: Number(r['revoked']),
        seats: Number(r['seats']),
        seatsAssigned: Number(r['seats_assigned']),
        products: JSON.parse(r['products'] as string) as string[],
        lastPosition: Number(r['last_position']),
      }),
    );
    return { items, nextCursor: rows.length > limit ? encodeCursor([items[items.length - 1]!.customerId]) : null };
  }

  /** Entitlements whose validity and grace ended by `now` but that are not recorded as expired. */
  async dueToExpire(now: Date, limit = 500): Promise<EntitlementRow[]> {
    return this.ds
      .getRepository(EntitlementEntity)
      .createQueryBuilder('e')
      .where(`${this.notIndexed('e', 'status', 'status')} IN (:...live)`, { live: ['active', 'suspended'] })
      .andWhere('e.graceEndsAt IS NOT NULL AND e.graceEndsAt <= :now', { now: now.toISOString() })
      .orderBy('e.graceEndsAt', 'ASC')
      .take(limit)
      .getMany();
  }

  /** Orders received before `before` that never got an outcome (their process was interrupted). */
  async unfinishedOrders(before: Date, limit = 500): Promise<OrderRow[]> {
    return this.ds
      .getRepository(OrderEntity)
      .createQueryBuilder('o')
      .where('o.status = :status', { status: 'received' })
      .andWhere('o.receivedAt <= :before', { before: before.toISOString() })
      .orderBy('o.receivedAt', 'ASC')
      .take(limit)
      .getMany();
  }

  /** Approved access requests decided before `before` whose grant was never recorded (the approval was interrupted). */
  async unfulfilledApprovals(before: Date, limit = 500): Promise<AccessRequestRow[]> {
    return this.ds
      .getRepository(AccessRequestEntity)
      .createQueryBuilder('a')
      .where('a.status = :status', { status: 'approved' })
      .andWhere('a.fulfilledAt IS NULL')
      .andWhere('a.decidedAt <= :before', { before: before.toISOString() })
      .orderBy('a.decidedAt', 'ASC')
      .take(limit)
      .getMany();
  }

  /**
   * Customers whose dunning has work to do at `now`: a case past due whose
   * suspension has fallen due, or entitlements to reinstate after the payment
   * (normally done at once; left over by a crash).
   */
  async dunningDue(now: Date, limit = 500): Promise<DunningRow[]> {
    // Two ranges of indexes (rm_dunning_due, rm_dunning_recovering), merged: an OR of both would scan.
    const repo = this.ds.getRepository(DunningEntity);
    const [due, recovering] = await Promise.all([
      repo.createQueryBuilder('d').where('d.status = :pastDue AND d.suspendAt <= :now', { pastDue: 'past_due', now: now.toISOString() }).orderBy('d.suspendAt', 'ASC').take(limit).getMany(),
      repo.createQueryBuilder('d').where('d.status = :recovering', { recovering: 'recovering' }).orderBy('d.updatedAt', 'ASC').take(limit).getMany(),
    ]);
    return [...due, ...recovering].sort((x, y) => byKeys(x.updatedAt, y.updatedAt)).slice(0, limit);
  }

}
