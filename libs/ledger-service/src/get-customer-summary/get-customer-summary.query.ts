import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ReadModelQueries, ReadYourWrites, type CustomerSummaryRow } from '@el/read-models';
import { LedgerError } from '../ledger.errors';
import type { Principal } from '@el/platform';
import { assertSeesCustomer } from '../infrastructure/visibility';

export type CustomerSummary = Omit<CustomerSummaryRow, 'lastPosition'> & { readonly position: number };

export class GetCustomerSummaryQuery extends Query<CustomerSummary> {
  constructor(
    readonly customerId: string,
    readonly viewer: Principal,
    readonly minPosition?: number,
  ) {
    super();
  }
}

@QueryHandler(GetCustomerSummaryQuery)
export class GetCustomerSummaryHandler implements IQueryHandler<GetCustomerSummaryQuery, CustomerSummary> {
  constructor(
    private readonly queries: ReadModelQueries,
    private readonly ryw: ReadYourWrites,
  ) {}

  async execute(q: GetCustomerSummaryQuery): Promise<CustomerSummary> {
    assertSeesCustomer(q.viewer, q.customerId);
    const position = await this.ryw.require(q.minPosition);
    const summary = await this.queries.customerSummary(q.customerId);
    if (!summary) throw new LedgerError('CUSTOMER.NOT_FOUND', `customer ${q.customerId} owns nothing yet`, { position });
    const { lastPosition: _l, ...rest } = summary;
    return { ...rest, position };
  }
}
