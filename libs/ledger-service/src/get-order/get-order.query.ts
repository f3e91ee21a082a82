import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ReadModelQueries, ReadYourWrites } from '@el/read-models';
import { LedgerError } from '../ledger.errors';

export class GetOrderQuery extends Query<Record<string, unknown>> {
  constructor(
    readonly orderId: string,
    readonly minPosition?: number,
  ) {
    super();
  }
}

@QueryHandler(GetOrderQuery)
export class GetOrderHandler implements IQueryHandler<GetOrderQuery, Record<string, unknown>> {
  constructor(
    private readonly queries: ReadModelQueries,
    private readonly ryw: ReadYourWrites,
  ) {}

  async execute(q: GetOrderQuery): Promise<Record<string, unknown>> {
    const position = await this.ryw.require(q.minPosition);
    const row = await this.queries.getOrder(q.orderId);
    if (!row) throw new LedgerError('ORDER.NOT_FOUND', `order ${q.orderId} was never received (read models at position ${position})`, { position });
    return {
      orderId: row.orderId,
      customerId: row.customerId,
      status: row.status,
      effectiveAt: row.effectiveAt,
      receivedAt: row.receivedAt,
      catalogVersion: row.catalogVersion,
      lines: row.lines,
      ...(row.status === 'fulfilled' ? { results: row.results, partial: row.partial === 1 } : {}),
      ...(row.status === 'rejected' ? { rejection: row.rejection } : {}),
      entitlementIds: row.entitlementIds,
      revision: row.lastRevision,
      position,
    };
  }
}
