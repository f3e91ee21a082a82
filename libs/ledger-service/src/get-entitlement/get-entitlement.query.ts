import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { DomainError } from '@el/domain';
import { EntitlementRepository } from '../entitlements/entitlement.repository';
import { toEntitlementView, type EntitlementView } from '../entitlements/entitlement.view';
import type { Principal } from '@el/platform';
import { assertSeesEntitlement } from '../infrastructure/visibility';

/** Reads the entitlement from its own stream: always current, no read model lag. */
export class GetEntitlementQuery extends Query<EntitlementView> {
  constructor(
    readonly entitlementId: string,
    readonly viewer: Principal,
  ) {
    super();
  }
}

@QueryHandler(GetEntitlementQuery)
export class GetEntitlementHandler implements IQueryHandler<GetEntitlementQuery, EntitlementView> {
  constructor(private readonly entitlements: EntitlementRepository) {}

  async execute(q: GetEntitlementQuery): Promise<EntitlementView> {
    const { state, revision } = await this.entitlements.load(q.entitlementId);
    if (state.status === 'none') throw new DomainError('ENTITLEMENT.NOT_FOUND', `entitlement ${q.entitlementId} does not exist`);
    assertSeesEntitlement(q.viewer, q.entitlementId, state.customerId);
    return toEntitlementView(state, revision);
  }
}
