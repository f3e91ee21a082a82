import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ReadModelQueries, ReadYourWrites, type AccessRequestRow, type PageRequest } from '@el/read-models';
import { seesCustomer, type Principal } from '@el/platform';

export interface AccessRequestPage {
  readonly position: number;
  readonly items: (Omit<AccessRequestRow, 'state' | 'lastRevision' | 'lastPosition'> & { revision: number })[];
  readonly nextCursor: string | null;
}

export class ListAccessRequestsQuery extends Query<AccessRequestPage> {
  constructor(
    /** Who asks: the filter must already be limited to what it sees (customerFilter). */
    readonly viewer: Principal,
    readonly filter: { status: AccessRequestRow['status']; customerId?: string },
    readonly page: PageRequest,
    readonly minPosition?: number,
  ) {
    super();
  }
}

@QueryHandler(ListAccessRequestsQuery)
export class ListAccessRequestsHandler implements IQueryHandler<ListAccessRequestsQuery, AccessRequestPage> {
  constructor(
    private readonly queries: ReadModelQueries,
    private readonly ryw: ReadYourWrites,
  ) {}

  async execute(q: ListAccessRequestsQuery): Promise<AccessRequestPage> {
    if (q.viewer.customers !== null && (q.filter.customerId === undefined || !seesCustomer(q.viewer, q.filter.customerId))) {
      throw new Error('ListAccessRequestsQuery: the filter is not limited to the viewer\'s customers');
    }
    const position = await this.ryw.require(q.minPosition);
    const page = await this.ryw.page(() => this.queries.listAccessRequests(q.filter, q.page));
    return { position, items: page.items.map(({ state: _s, lastRevision, lastPosition: _p, ...r }) => ({ ...r, revision: lastRevision })), nextCursor: page.nextCursor };
  }
}
