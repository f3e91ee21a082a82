import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ReadModelQueries, ReadYourWrites, type CustomerSearch, type PageRequest } from '@el/read-models';
import type { Principal } from '@el/platform';
import type { CustomerListPage } from './customer-list.view';

/** Customers holding entitlements whose id starts with a prefix, in id order (read model). */
export class SearchCustomersQuery extends Query<CustomerListPage> {
  constructor(
    /** Who asks: the search must already be limited to what it sees (visibleCustomers). */
    readonly viewer: Principal,
    readonly search: CustomerSearch,
    readonly page: PageRequest,
    readonly minPosition?: number,
  ) {
    super();
  }
}

@QueryHandler(SearchCustomersQuery)
export class SearchCustomersHandler implements IQueryHandler<SearchCustomersQuery, CustomerListPage> {
  constructor(
    private readonly queries: ReadModelQueries,
    private readonly ryw: ReadYourWrites,
  ) {}

  async execute(q: SearchCustomersQuery): Promise<CustomerListPage> {
    const mine = q.viewer.customers;
    if (mine !== null && (q.search.within === null || q.search.within.some((c) => !mine.includes(c)))) {
      throw new Error('SearchCustomersQuery: the search is not limited to the viewer\'s customers');
    }
    const position = await this.ryw.require(q.minPosition);
    const page = await this.ryw.page(() => this.queries.searchCustomers(q.search, q.page));
    return { position, items: page.items, nextCursor: page.nextCursor };
  }
}
