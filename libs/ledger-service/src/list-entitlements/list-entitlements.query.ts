import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { Clock } from '@el/platform';
import { reviveEntitlementState } from '@el/domain';
import { ReadModelQueries, ReadYourWrites, type EntitlementFilter, type PageRequest } from '@el/read-models';
import { toEntitlementView, type EntitlementView } from '../entitlements/entitlement.view';
import { seesCustomer, type Principal } from '@el/platform';

export interface EntitlementPage {
  /** Global position the answer includes. */
  readonly position: number;
  readonly items: EntitlementView[];
  readonly nextCursor: string | null;
}

export class ListEntitlementsQuery extends Query<EntitlementPage> {
  constructor(
    /** Who asks: the filter must already be limited to what it sees (customerFilter). */
    readonly viewer: Principal,
    readonly filter: Omit<EntitlementFilter, 'now'>,
    readonly page: PageRequest,
    readonly minPosition?: number,
  ) {
    super();
  }
}

@QueryHandler(ListEntitlementsQuery)
export class ListEntitlementsHandler implements IQueryHandler<ListEntitlementsQuery, EntitlementPage> {
  constructor(
    private readonly queries: ReadModelQueries,
    private readonly ryw: ReadYourWrites,
    private readonly clock: Clock,
  ) {}

  async execute(q: ListEntitlementsQuery): Promise<EntitlementPage> {
    if (q.viewer.customers !== null && (q.filter.customerId === undefined || !seesCustomer(q.viewer, q.filter.customerId))) {
      throw new Error('ListEntitlementsQuery: the filter is not limited to the viewer\'s customers');
    }
    const position = await this.ryw.require(q.minPosition);
    const page = await this.ryw.page(() => this.queries.listEntitlements({ ...q.filter, now: this.clock.now() }, q.page));
    return { position, items: page.items.map((row) => toEntitlementView(reviveEntitlementState(row.state), row.lastRevision)), nextCursor: page.nextCursor };
  }
}
