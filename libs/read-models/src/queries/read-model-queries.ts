import type { DataSource, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { AccessRequestEntity, CustomerSummaryEntity, DunningEntity, EntitlementEntity, OrderEntity, SeatAssignmentEntity } from '../schema/entities';
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

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
  readonly code = 'QUERY.INVALID_CURSOR';
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
    qb.andWhere(`(${alias}.${sortProperty} > :cursorSort OR (${alias}.${sortProperty} = :cursorSort AND ${alias}.${idProperty} > :cursorId))`, { cursorSort: sort, cursorId: id });
  }
  const rows = await qb.orderBy(`${alias}.${sortProperty}`, 'ASC').addOrderBy(`${alias}.${idProperty}`, 'ASC').take(limit + 1).getMany();
  const items = rows.slice(0, limit);
  const last = items[items.length - 1] as Record<string, unknown> | undefined;
  return { items, nextCursor: rows.length > limit && last ? encodeCursor([String(last[sortProperty]), String(last[idProperty])]) : null };
}

/** The queries the read models answer. */
export class ReadModelQueries {
  constructor(private readonly ds: DataSource) {}

  listEntitlements(filter: EntitlementFilter, page: PageRequest): Promise<Page<EntitlementRow>> {
    const qb = this.ds.getRepository(EntitlementEntity).createQueryBuilder('e');
    if (filter.customerId !== undefined) qb.andWhere('e.customerId = :customerId', { customerId: filter.customerId });
    if (filter.productId !== undefined) qb.andWhere('e.productId = :productId', { productId: filter.productId });
    if (filter.expiringWithinDays !== undefined) {
      const from = filter.now.toISOString();
      const to = new Date(filter.now.getTime() + filter.expiringWithinDays * 86_400_000).toISOString();
      qb.andWhere('e.status IN (:...live)', { live: filter.status ? [filter.status] : ['active', 'suspended'] })
        .andWhere('e.validUntil IS NOT NULL AND e.validUntil >= :from AND e.validUntil <= :to', { from, to });
      return paginate(qb, 'e', 'validUntil', 'entitlementId', page);
    }
    if (filter.status !== undefined) qb.andWhere('e.status = :status', { status: filter.status });
    return paginate(qb, 'e', 'grantedAt', 'entitlementId', page);
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

  /** Entitlements whose validity and grace ended by `now` but that are not recorded as expired. */
  async dueToExpire(now: Date, limit = 500): Promise<EntitlementRow[]> {
    return this.ds
      .getRepository(EntitlementEntity)
      .createQueryBuilder('e')
      .where('e.status IN (:...live)', { live: ['active', 'suspended'] })
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
    return this.ds
      .getRepository(DunningEntity)
      .createQueryBuilder('d')
      .where('(d.status = :pastDue AND d.suspendAt <= :now)', { pastDue: 'past_due', now: now.toISOString() })
      .orWhere('d.status = :recovering', { recovering: 'recovering' })
      .orderBy('d.updatedAt', 'ASC')
      .take(limit)
      .getMany();
  }
}
