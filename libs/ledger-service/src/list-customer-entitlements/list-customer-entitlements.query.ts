import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { EntitlementStatus } from '@el/domain';
import { LedgerIndex } from '../infrastructure/ledger-index';
import { toEntitlementView, type EntitlementView } from '../entitlements/entitlement.view';

export interface CustomerEntitlements {
  readonly customerId: string;
  /** Global position the answer reflects. */
  readonly position: number;
  readonly items: EntitlementView[];
}

export class ListCustomerEntitlementsQuery extends Query<CustomerEntitlements> {
  constructor(
    readonly customerId: string,
    readonly filter: { status?: EntitlementStatus; productId?: string; minPosition?: number },
  ) {
    super();
  }
}

@QueryHandler(ListCustomerEntitlementsQuery)
export class ListCustomerEntitlementsHandler implements IQueryHandler<ListCustomerEntitlementsQuery, CustomerEntitlements> {
  constructor(private readonly index: LedgerIndex) {}

  async execute(q: ListCustomerEntitlementsQuery): Promise<CustomerEntitlements> {
    await this.index.require(q.filter.minPosition);
    const items = this.index
      .customerEntitlements(q.customerId)
      .filter((e) => (q.filter.status === undefined || e.status === q.filter.status) && (q.filter.productId === undefined || e.productId === q.filter.productId))
      .sort((a, b) => a.grantedAt.localeCompare(b.grantedAt) || a.entitlementId.localeCompare(b.entitlementId))
      .map((e) => toEntitlementView(e, this.index.revisionOf(e.entitlementId)));
    return { customerId: q.customerId, position: this.index.position(), items };
  }
}
