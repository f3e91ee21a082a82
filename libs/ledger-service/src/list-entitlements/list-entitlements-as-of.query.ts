import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { entitlementAsOf, resolveAsOf, type AsOf, type AsOfRequest, type EntitlementStatus } from '@el/domain';
import { Clock, seesCustomer, type Principal } from '@el/platform';
import { ReadModelQueries, ReadYourWrites, type PageRequest } from '@el/read-models';
import { EntitlementRepository } from '../entitlements/entitlement.repository';
import { toEntitlementView, type EntitlementView } from '../entitlements/entitlement.view';
import type { EntitlementPage } from './list-entitlements.query';

export interface EntitlementAsOfPage extends EntitlementPage {
  readonly asOf: AsOf;
}

/**
 * What a customer owned as the ledger, as of `recordedAsOf`, believed it stood
 * at `asOf`. Which entitlements are the customer's comes from the read model
 * (an entitlement never changes customer, and one created later simply has
 * nothing recorded by `recordedAsOf`); each one's state comes from its stream.
 */
export class ListCustomerEntitlementsAsOfQuery extends Query<EntitlementAsOfPage> {
  constructor(
    readonly viewer: Principal,
    readonly customerId: string,
    readonly filter: { readonly status?: EntitlementStatus; readonly productId?: string },
    readonly page: PageRequest,
    readonly at: AsOfRequest,
    readonly minPosition?: number,
  ) {
    super();
  }
}

@QueryHandler(ListCustomerEntitlementsAsOfQuery)
export class ListCustomerEntitlementsAsOfHandler implements IQueryHandler<ListCustomerEntitlementsAsOfQuery, EntitlementAsOfPage> {
  constructor(
    private readonly queries: ReadModelQueries,
    private readonly ryw: ReadYourWrites,
    private readonly entitlements: EntitlementRepository,
    private readonly clock: Clock,
  ) {}

  /**
   * A page examines `limit` of the customer's entitlements (oldest grant first, as
   * the current list) and returns those in force as asked: it may hold fewer than
   * `limit`, even none, with a `nextCursor`; the list ends when `nextCursor` is null.
   * So a page costs at most `limit` stream reads, whatever the filter drops.
   */
  async execute(q: ListCustomerEntitlementsAsOfQuery): Promise<EntitlementAsOfPage> {
    if (!seesCustomer(q.viewer, q.customerId)) throw new Error('ListCustomerEntitlementsAsOfQuery: the customer is not one the viewer sees');
    const now = this.clock.now();
    const at = resolveAsOf(q.at, now.toISOString());
    const position = await this.ryw.require(q.minPosition);
    // productId can be asked of the read model: a plan change never leaves its product.
    const rows = await this.ryw.page(() =>
      this.queries.listEntitlements({ customerId: q.customerId, ...(q.filter.productId !== undefined ? { productId: q.filter.productId } : {}), now }, q.page),
    );
    const answers = await Promise.all(rows.items.map(async (row) => entitlementAsOf((await this.entitlements.history(row.entitlementId)).events, at)));
    const items: EntitlementView[] = [];
    for (const { state, revision } of answers) {
      if (state.status === 'none' || (q.filter.status !== undefined && state.status !== q.filter.status)) continue;
      items.push(toEntitlementView(state, revision));
    }
    return { position, items, nextCursor: rows.nextCursor, asOf: at };
  }
}
